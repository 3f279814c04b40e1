/**
 * What research costs: the one table of list prices (US dollars, us-east-1, as of 2026) and the arithmetic that
 * turns a company's usage into money. Everything that prices anything reads this file.
 */
import type { ModelUsage, Usage } from './contracts';

export const PRICES = {
  /**
   * Claude, per million tokens, by model family. Prompt caching bills a cache write at 1.25× the input price and a
   * cache read at 0.1× (five-minute cache).
   */
  models: [
    { prefix: 'claude-haiku', input: 1, output: 5 },
    { prefix: 'claude-sonnet', input: 3, output: 15 },
    { prefix: 'claude-opus', input: 5, output: 25 },
  ],
  cacheWriteMultiplier: 1.25,
  cacheReadMultiplier: 0.1,
  /** One Tavily credit: a basic search is 1 credit, an advanced one 2. The seed's figure (Tavily's volume rate). */
  tavilyCreditUsd: 0.005,
  /**
   * Gemini with Google Search grounding (the google search provider). Gemini 2.x models bill each grounded prompt
   * (a request that searched, however many queries it ran) at $35 per 1,000; Gemini 3 models bill each search query
   * at $14 per 1,000. The daily free allowance is ignored: estimates err on the high side. Its tokens per million,
   * longest prefix first; an unknown Gemini model is priced as 2.5 Pro.
   */
  geminiGroundedPromptUsd: 0.035,
  gemini3SearchQueryUsd: 0.014,
  geminiModels: [
    { prefix: 'gemini-2.5-flash-lite', input: 0.1, output: 0.4 },
    { prefix: 'gemini-2.5-flash', input: 0.3, output: 2.5 },
    { prefix: 'gemini-2.5-pro', input: 1.25, output: 10 },
  ],
  /** Lambda on arm64: per GB-second, and per request. */
  lambdaGbSecondUsd: 0.0000133334,
  lambdaRequestUsd: 0.0000002,
  /** Step Functions STANDARD: per state transition (retries count too). */
  stepFunctionsTransitionUsd: 0.000025,
} as const;

/**
 * What usage counts search spend in: a Tavily credit. The daily research-unit quota is priced in them
 * (lambdas/core/quotas.ts), and a Gemini search is converted into them (geminiSearchCredits).
 */
export const SEARCH_CREDIT_USD = PRICES.tavilyCreditUsd;

/** The two Claude models a deployment runs unless its CDK context names others (lib/dossier-stack.ts). */
export const DEFAULT_MODELS = { small: 'claude-haiku-4-5', large: 'claude-sonnet-4-6' } as const;

/** The Gemini model the google search provider asks unless configured otherwise. */
export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-flash';

export interface GeminiSearchUsage {
  /** Queries the model ran (webSearchQueries); 0 when it answered without searching. */
  searchQueries: number;
  inputTokens: number;
  outputTokens: number;
}

export function geminiSearchUsd(model: string, usage: GeminiSearchUsage): number {
  const tokens = PRICES.geminiModels.find((p) => model.startsWith(p.prefix)) ?? { input: 1.25, output: 10 };
  const grounding = model.startsWith('gemini-3')
    ? usage.searchQueries * PRICES.gemini3SearchQueryUsd
    : usage.searchQueries > 0 ? PRICES.geminiGroundedPromptUsd : 0;
  return grounding + (usage.inputTokens * tokens.input + usage.outputTokens * tokens.output) / 1_000_000;
}

/** A Gemini search's cost in search credits (fractions allowed): 2.5 Flash with one grounded prompt is about 7. */
export function geminiSearchCredits(model: string, usage: GeminiSearchUsage): number {
  return Math.round((geminiSearchUsd(model, usage) / SEARCH_CREDIT_USD) * 10_000) / 10_000;
}

export function modelPrice(model: string): { input: number; output: number } {
  const price = PRICES.models.find((p) => model.startsWith(p.prefix));
  // An unknown model is priced as Sonnet: an estimate that errs on the high side of the common choices.
  return price ? { input: price.input, output: price.output } : { input: 3, output: 15 };
}

/**
 * The per-company work that no provider reports, estimated from the chain's shape (lib/company-research.ts).
 * A round is Research, Extract, Reflect and the Choice, plus NextIteration between rounds, and StoreResult ends
 * the run: 5 × iterations state transitions (retries, which also count, are not visible to the chain).
 * Research and extraction measure their own Lambda time (usage.lambda_gb_seconds); reflection and storage are
 * CPU-only steps of a few milliseconds at 256 MB, estimated at 100 ms each.
 */
export const CHAIN_ESTIMATES = {
  transitionsPerIteration: 5,
  lambdaRequestsPerIteration: 3,
  lambdaRequestsPerRun: 1,
  unmeasuredGbSecondsPerIteration: 0.25 * 0.1,
  unmeasuredGbSecondsPerRun: 0.25 * 0.1,
} as const;

export interface CostBreakdown {
  usd: number;
  search_usd: number;
  llm_usd: number;
  lambda_usd: number;
  step_functions_usd: number;
}

const round6 = (usd: number) => Math.round(usd * 1_000_000) / 1_000_000;

export function llmUsd(model: string, tokens: ModelUsage): number {
  const price = modelPrice(model);
  return (
    (tokens.input_tokens * price.input +
      tokens.cache_write_tokens * price.input * PRICES.cacheWriteMultiplier +
      tokens.cache_read_tokens * price.input * PRICES.cacheReadMultiplier +
      tokens.output_tokens * price.output) /
    1_000_000
  );
}

/** A company's cost from its usage and how many rounds it ran; each part rounded to a millionth of a dollar. */
export function costOf(usage: Usage, iterations: number): CostBreakdown {
  const search = usage.search_credits * PRICES.tavilyCreditUsd;
  const llm = Object.entries(usage.llm).reduce((sum, [model, tokens]) => sum + llmUsd(model, tokens), 0);
  const ran = iterations > 0;
  const gbSeconds =
    usage.lambda_gb_seconds +
    (ran ? iterations * CHAIN_ESTIMATES.unmeasuredGbSecondsPerIteration + CHAIN_ESTIMATES.unmeasuredGbSecondsPerRun : 0);
  const requests = ran ? iterations * CHAIN_ESTIMATES.lambdaRequestsPerIteration + CHAIN_ESTIMATES.lambdaRequestsPerRun : 0;
  const lambda = gbSeconds * PRICES.lambdaGbSecondUsd + requests * PRICES.lambdaRequestUsd;
  const stepFunctions = iterations * CHAIN_ESTIMATES.transitionsPerIteration * PRICES.stepFunctionsTransitionUsd;
  return {
    usd: round6(search + llm + lambda + stepFunctions),
    search_usd: round6(search),
    llm_usd: round6(llm),
    lambda_usd: round6(lambda),
    step_functions_usd: round6(stepFunctions),
  };
}
