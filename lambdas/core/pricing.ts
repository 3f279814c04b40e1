/** What a company's research cost, from its usage. Prices are list prices in US dollars. */
import type { Usage } from './contracts';

/** Per million tokens (input, output), by model family. */
const MODEL_PRICES: { prefix: string; input: number; output: number }[] = [
  { prefix: 'claude-haiku', input: 1, output: 5 },
  { prefix: 'claude-sonnet', input: 3, output: 15 },
  { prefix: 'claude-opus', input: 5, output: 25 },
];

/** The Claude model every LLM call uses unless the deployment (or LLM_MODEL locally) names another. */
export const DEFAULT_LLM_MODEL = 'claude-sonnet-4-6';

/**
 * The seed's figure for a Tavily query; a basic search is one credit. Usage counts all search spend in these
 * credits, so a Gemini search is converted into them (geminiSearchCredits).
 */
export const SEARCH_CREDIT_USD = 0.005;

/**
 * Gemini with Google Search grounding, list prices. Gemini 2.x models bill each grounded prompt (a request that
 * searched, however many queries it ran) at $35 per 1,000; Gemini 3 models bill each search query at $14 per
 * 1,000. The daily free allowance of grounded prompts is ignored: estimates err on the high side.
 */
export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-flash';
const GEMINI_GROUNDED_PROMPT_USD = 0.035;
const GEMINI_3_SEARCH_QUERY_USD = 0.014;
/** Per million tokens (input, output); longest prefix first. Unknown models are priced as 2.5 Pro. */
const GEMINI_TOKEN_PRICES: { prefix: string; input: number; output: number }[] = [
  { prefix: 'gemini-2.5-flash-lite', input: 0.1, output: 0.4 },
  { prefix: 'gemini-2.5-flash', input: 0.3, output: 2.5 },
  { prefix: 'gemini-2.5-pro', input: 1.25, output: 10 },
];

export interface GeminiSearchUsage {
  /** Queries the model ran (webSearchQueries); 0 when it answered without searching. */
  searchQueries: number;
  inputTokens: number;
  outputTokens: number;
}

export function geminiSearchUsd(model: string, usage: GeminiSearchUsage): number {
  const tokens = GEMINI_TOKEN_PRICES.find((p) => model.startsWith(p.prefix)) ?? { input: 1.25, output: 10 };
  const grounding = model.startsWith('gemini-3')
    ? usage.searchQueries * GEMINI_3_SEARCH_QUERY_USD
    : usage.searchQueries > 0 ? GEMINI_GROUNDED_PROMPT_USD : 0;
  return grounding + (usage.inputTokens * tokens.input + usage.outputTokens * tokens.output) / 1_000_000;
}

/** A Gemini search's cost in search credits (fractions allowed): 2.5 Flash with one grounded prompt is about 7. */
export function geminiSearchCredits(model: string, usage: GeminiSearchUsage): number {
  return Math.round((geminiSearchUsd(model, usage) / SEARCH_CREDIT_USD) * 10_000) / 10_000;
}

export function modelPrice(model: string): { input: number; output: number } {
  const price = MODEL_PRICES.find((p) => model.startsWith(p.prefix));
  // Unknown models are priced as Sonnet: an estimate that errs on the high side.
  return price ?? { input: 3, output: 15 };
}

export function costUsd(usage: Usage, model: string): number {
  const price = modelPrice(model);
  const usd =
    usage.search_credits * SEARCH_CREDIT_USD +
    (usage.llm_input_tokens * price.input + usage.llm_output_tokens * price.output) / 1_000_000;
  return Math.round(usd * 1_000_000) / 1_000_000;
}

export function addUsage(a: Usage, b: Partial<Usage>): Usage {
  return {
    search_queries: a.search_queries + (b.search_queries ?? 0),
    search_credits: a.search_credits + (b.search_credits ?? 0),
    llm_input_tokens: a.llm_input_tokens + (b.llm_input_tokens ?? 0),
    llm_output_tokens: a.llm_output_tokens + (b.llm_output_tokens ?? 0),
  };
}
