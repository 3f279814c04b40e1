/**
 * The Anthropic stand-in's bill: token counts from the sizes of the actual request and reply, and a prompt cache
 * that behaves as Anthropic documents it, so what a local run reports is what the same calls would be billed.
 *
 * - Tokens are estimated at 4 characters each (Anthropic's rule of thumb for English; JSON and code run denser,
 *   so this tends to undercount them slightly).
 * - A request with tools also pays for the tool-use system prompt Anthropic adds: 313 tokens when a tool is
 *   forced (tool_choice any/tool), 346 otherwise (Claude 4 models).
 * - The prompt is the tools, then the system blocks, then the messages. A block with `cache_control` ends a
 *   cacheable prefix. A prefix shorter than the model's minimum is never cached (no error: both cache counters stay
 *   0). Otherwise the first request with that prefix writes it (cache_creation_input_tokens) and later ones read it
 *   (cache_read_input_tokens) while it lives: five minutes, renewed by each read. `input_tokens` is the rest.
 */
import { createHash } from 'node:crypto';
import { isRecord } from './faults';

export const CHARS_PER_TOKEN = 4;
export const estimateTokens = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);

const TOOL_SYSTEM_PROMPT_TOKENS = { forced: 313, auto: 346 };
export const CACHE_TTL_MS = 5 * 60_000;

/** The shortest prefix each model caches (Anthropic's prompt-caching guide); unknown models get the common 1,024. */
const MINIMUM_CACHEABLE = [
  { prefix: 'claude-haiku-4', tokens: 4096 },
  { prefix: 'claude-haiku-3', tokens: 2048 },
  { prefix: 'claude-3-haiku', tokens: 2048 },
  { prefix: 'claude-3-5-haiku', tokens: 2048 },
  { prefix: 'claude-opus-4-5', tokens: 4096 },
  { prefix: 'claude-opus-4-6', tokens: 4096 },
];
export function minimumCacheableTokens(model: string): number {
  return MINIMUM_CACHEABLE.find((m) => model.startsWith(m.prefix))?.tokens ?? 1024;
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}


/** A block's billable text: what it says, not its cache marker. */
function blockText(block: unknown): string {
  if (typeof block === 'string') return block;
  if (!isRecord(block)) return '';
  if (block.type === 'text' && typeof block.text === 'string') return block.text;
  if (block.type === 'tool_result') return contentBlocks(block.content).map(blockText).join('\n');
  if (block.type === 'tool_use') return JSON.stringify({ name: block.name, input: block.input });
  if (block.type === 'document' && isRecord(block.source) && typeof block.source.data === 'string') return block.source.data;
  return '';
}

const contentBlocks = (content: unknown): unknown[] => (Array.isArray(content) ? content : content === undefined ? [] : [content]);

/** The text of a message's content, a plain string or a list of blocks: what the stand-in reads and bills. */
export const contentText = (content: unknown): string => contentBlocks(content).map(blockText).join('\n');

/** The prompt in Anthropic's order (tools, system, messages), one entry per block, with its cache marker. */
function promptBlocks(body: Record<string, unknown>): { text: string; breakpoint: boolean }[] {
  const blocks: { text: string; breakpoint: boolean }[] = [];
  for (const tool of Array.isArray(body.tools) ? body.tools.filter(isRecord) : []) {
    const { cache_control, ...definition } = tool;
    blocks.push({ text: JSON.stringify(definition), breakpoint: cache_control !== undefined });
  }
  for (const block of contentBlocks(body.system)) {
    blocks.push({ text: blockText(block), breakpoint: isRecord(block) && block.cache_control !== undefined });
  }
  for (const message of Array.isArray(body.messages) ? body.messages.filter(isRecord) : []) {
    for (const block of contentBlocks(message.content)) {
      blocks.push({ text: blockText(block), breakpoint: isRecord(block) && block.cache_control !== undefined });
    }
  }
  // Automatic caching: a top-level cache_control puts the breakpoint on the last block.
  if (body.cache_control !== undefined && blocks.length > 0) blocks[blocks.length - 1]!.breakpoint = true;
  return blocks;
}

/** The tool-use system prompt's tokens, which sit before everything else in the prompt. */
function toolPromptTokens(body: Record<string, unknown>): number {
  if (!Array.isArray(body.tools) || body.tools.length === 0) return 0;
  const choice = isRecord(body.tool_choice) ? body.tool_choice.type : undefined;
  return choice === 'tool' || choice === 'any' ? TOOL_SYSTEM_PROMPT_TOKENS.forced : TOOL_SYSTEM_PROMPT_TOKENS.auto;
}

export interface PromptCache {
  /** The input side of a request's usage; writes and renews cache entries as the real cache would. */
  inputUsage(body: Record<string, unknown>): Omit<Usage, 'output_tokens'>;
  /** Input tokens as count_tokens answers them (no cache involved). */
  countTokens(body: Record<string, unknown>): number;
}

export function createPromptCache(now: () => number = Date.now): PromptCache {
  const entries = new Map<string, number>(); // key → expiry
  const measure = (body: Record<string, unknown>) => {
    const model = typeof body.model === 'string' ? body.model : '';
    const blocks = promptBlocks(body);
    const overhead = toolPromptTokens(body);
    // Each breakpoint's prefix: its length in tokens, and a key naming the model and the exact text.
    const hash = createHash('sha256').update(model);
    const prefixes: { key: string; tokens: number }[] = [];
    let chars = 0;
    for (const block of blocks) {
      hash.update('\u0000').update(block.text);
      chars += block.text.length;
      if (block.breakpoint) prefixes.push({ key: hash.copy().digest('hex'), tokens: overhead + estimateTokens(chars) });
    }
    return { model, total: overhead + estimateTokens(chars), prefixes };
  };
  return {
    countTokens: (body) => measure(body).total,
    inputUsage(body) {
      const { model, total, prefixes } = measure(body);
      const minimum = minimumCacheableTokens(model);
      const cacheable = prefixes.filter((p) => p.tokens >= minimum);
      const at = now();
      // The longest prefix still cached is read; the request's last prefix, when longer, is written from there on.
      const hit = [...cacheable].reverse().find((p) => (entries.get(p.key) ?? 0) > at);
      const last = cacheable.at(-1);
      const read = hit?.tokens ?? 0;
      const written = last && last.tokens > read ? last.tokens - read : 0;
      if (hit) entries.set(hit.key, at + CACHE_TTL_MS);
      if (last && written > 0) entries.set(last.key, at + CACHE_TTL_MS);
      return { input_tokens: Math.max(0, total - read - written), cache_creation_input_tokens: written, cache_read_input_tokens: read };
    },
  };
}
