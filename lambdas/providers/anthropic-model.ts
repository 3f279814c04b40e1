/** Claude through @anthropic-ai/sdk. */
import Anthropic from '@anthropic-ai/sdk';
import type { LanguageModel, TokenUsage, WriteRequest } from './language-model';
import { ProviderError, errorNameForStatus, retryAfterMs } from './provider-error';

export interface AnthropicOptions {
  apiKey: string;
  model: string;
  baseUrl?: string;
  /**
   * The SDK's own retries honour retry-after but bypass any pacing; a paced model (lambdas/providers/pacing.ts) sets 0
   * and retries itself, so that every attempt is counted against the shared limit.
   */
  maxRetries?: number;
  timeoutMs?: number;
}

function toProviderError(error: unknown): ProviderError {
  if (error instanceof Anthropic.APIError) {
    // 529 is Anthropic's "overloaded": a throttle in all but name.
    const name = error.status === 529 ? 'ProviderThrottled' : errorNameForStatus(error.status);
    return new ProviderError(name, 'anthropic', error.message, retryAfterMs(error.headers));
  }
  return new ProviderError('ProviderUnavailable', 'anthropic', (error as Error).message);
}

/** The reply's usage, as billed: cache writes and reads are reported apart from the other input tokens. */
const usageOf = (model: string, message: Anthropic.Message): TokenUsage => ({
  model,
  input_tokens: message.usage.input_tokens,
  output_tokens: message.usage.output_tokens,
  cache_write_tokens: message.usage.cache_creation_input_tokens ?? 0,
  cache_read_tokens: message.usage.cache_read_input_tokens ?? 0,
});

export function createAnthropicModel(options: AnthropicOptions): LanguageModel {
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
    maxRetries: options.maxRetries ?? 2,
    timeout: options.timeoutMs ?? 50_000,
  });
  // One request shape for both kinds of call; `extra` adds the forced tool for structured answers.
  const create = async (request: WriteRequest, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) => {
    try {
      return await client.messages.create({
        model: options.model,
        max_tokens: request.maxTokens,
        // The shared prefix is marked for caching. The prefix is everything up to this block (the tools come first),
        // so a forced tool's schema is cached with it. Below the model's minimum length nothing is cached, at no cost.
        system: [{ type: 'text', text: request.system, cache_control: { type: 'ephemeral' } }],
        messages: [{ role: 'user', content: request.prompt }],
        ...extra,
      });
    } catch (error) {
      throw toProviderError(error);
    }
  };
  return {
    model: options.model,
    async write(request) {
      const message = await create(request);
      const text = message.content
        .map((block) => (block.type === 'text' ? block.text : ''))
        .join('')
        .trim();
      return { text, usage: usageOf(options.model, message) };
    },
    async structured(request) {
      const { toolName, toolDescription, inputSchema } = request;
      if (request.format === 'json_schema') {
        // Structured outputs: the answer is the message's text, JSON that parses against the schema.
        const message = await create(request, { output_config: { format: { type: 'json_schema', schema: inputSchema } } });
        const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        try {
          return { value: JSON.parse(text) as unknown, usage: usageOf(options.model, message) };
        } catch {
          // A refusal or an answer cut at max_tokens: the caller reports an answer without data.
          return { value: undefined, usage: usageOf(options.model, message) };
        }
      }
      // A forced tool call returns JSON shaped by the tool's input schema.
      const message = await create(request, {
        tools: [{ name: toolName, description: toolDescription, input_schema: inputSchema as Anthropic.Tool.InputSchema }],
        tool_choice: { type: 'tool', name: toolName },
      });
      const call = message.content.find((block) => block.type === 'tool_use' && block.name === toolName);
      if (!call || call.type !== 'tool_use') {
        throw new ProviderError('ProviderUnavailable', 'anthropic', `the model did not call ${toolName} (stop_reason ${message.stop_reason})`);
      }
      return { value: call.input, usage: usageOf(options.model, message) };
    },
  };
}
