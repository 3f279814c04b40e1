/** Adding up usage as a company's run goes: searches, tokens by model, Lambda time. */
import type { ModelUsage, Usage } from './contracts';
import type { TokenUsage } from '../providers/language-model';

const zeroTokens = (): ModelUsage => ({ input_tokens: 0, output_tokens: 0, cache_write_tokens: 0, cache_read_tokens: 0 });

export function addTokens(a: ModelUsage, b: ModelUsage): ModelUsage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
    cache_read_tokens: a.cache_read_tokens + b.cache_read_tokens,
  };
}

export function addUsage(a: Usage, b: Partial<Pick<Usage, 'search_queries' | 'search_credits' | 'lambda_gb_seconds'>>): Usage {
  return {
    ...a,
    search_queries: a.search_queries + (b.search_queries ?? 0),
    search_credits: a.search_credits + (b.search_credits ?? 0),
    lambda_gb_seconds: a.lambda_gb_seconds + (b.lambda_gb_seconds ?? 0),
  };
}

/** One model call's tokens, added under the model that answered. */
export function addModelCall(usage: Usage, call: TokenUsage): Usage {
  const tokens: ModelUsage = {
    input_tokens: call.input_tokens,
    output_tokens: call.output_tokens,
    cache_write_tokens: call.cache_write_tokens ?? 0,
    cache_read_tokens: call.cache_read_tokens ?? 0,
  };
  return { ...usage, llm: { ...usage.llm, [call.model]: addTokens(usage.llm[call.model] ?? zeroTokens(), tokens) } };
}

/** All models together: every input token (cached or not) and every output token. */
export function tokenTotals(usage: Usage): { input: number; output: number } {
  let input = 0;
  let output = 0;
  for (const tokens of Object.values(usage.llm)) {
    input += tokens.input_tokens + tokens.cache_write_tokens + tokens.cache_read_tokens;
    output += tokens.output_tokens;
  }
  return { input, output };
}
