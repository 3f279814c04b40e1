/**
 * The providers' rate limits a deployment paces itself to, unless told others (`-c searchRequestsPerMinute=…` and the
 * LLM settings, see lib/agents.ts). Production Tavily keys allow 1,000 requests a minute (development keys 100);
 * Anthropic's Tier 2 allows Sonnet 4.x 1,000 requests, 450,000 input and 90,000 output tokens a minute. A Gemini
 * project on Tier 1 (billing linked) allows Gemini 2.5 Flash 1,000 requests a minute; its 1,000,000 input tokens a
 * minute are far beyond what grounded searches send (a query and a line of instructions each), so only requests are
 * paced. Gemini counts per Google Cloud project and model, not per key: deployments sharing a project share it.
 */
export const DEFAULT_PROVIDER_LIMITS = {
  searchRequestsPerMinute: 1_000,
  llmRequestsPerMinute: 1_000,
  llmInputTokensPerMinute: 450_000,
  llmOutputTokensPerMinute: 90_000,
  geminiRequestsPerMinute: 1_000,
} as const;

export type ProviderLimitName = keyof typeof DEFAULT_PROVIDER_LIMITS;

/** The function environment variable that carries each limit. */
export const PROVIDER_LIMIT_ENVIRONMENT: Record<ProviderLimitName, string> = {
  searchRequestsPerMinute: 'SEARCH_REQUESTS_PER_MINUTE',
  llmRequestsPerMinute: 'LLM_REQUESTS_PER_MINUTE',
  llmInputTokensPerMinute: 'LLM_INPUT_TOKENS_PER_MINUTE',
  llmOutputTokensPerMinute: 'LLM_OUTPUT_TOKENS_PER_MINUTE',
  geminiRequestsPerMinute: 'GEMINI_REQUESTS_PER_MINUTE',
};

/**
 * The largest single LLM request, for sizing the limiter's slots: the notes prompt holds at most 8 sources of 3,000
 * characters (lambdas/core/research.ts), about 9,000 tokens at three characters a token, and the extraction answer
 * reserves 2,048 output tokens.
 */
export const LARGEST_LLM_REQUEST = { input_tokens: 10_000, output_tokens: 2_048 } as const;
