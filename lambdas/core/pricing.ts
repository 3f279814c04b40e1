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

/** The seed's figure for a Tavily query; a basic search is one credit. */
export const SEARCH_CREDIT_USD = 0.005;

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
