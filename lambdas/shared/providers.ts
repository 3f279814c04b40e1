/**
 * Builds the configured providers once per container: the adapter, paced to the provider key's shared rate limit,
 * behind the search cache; and for each research step, the step's search journal in front.
 */
import { apiKey, config, providerLimitKey } from './config';
import { createAnthropicModel } from '../providers/anthropic-model';
import { withSearchCache } from '../providers/cached-search';
import { withModelPacing, withSearchPacing, type PacingOptions } from '../providers/pacing';
import { createRateLimiter, type Cost, type RateLimits } from '../providers/rate-limiter';
import { withSearchJournal, type ResearchStep } from '../providers/search-journal';
import { createTavilySearch } from '../providers/tavily-search';
import { LARGEST_LLM_REQUEST } from '../core/provider-limits';
import { DynamoRateLimitStore } from '../store/rate-limit-store';
import { DynamoSearchCache } from '../store/search-cache-store';
import { DynamoSearchJournal } from '../store/search-journal-store';
import { documentClient } from './aws-clients';
import { invocationDeadline } from './invocation-deadline';
import { logger } from './observability';
import type { LanguageModel } from '../providers/language-model';
import type { SearchProvider } from '../providers/search-provider';

let search: Promise<SearchProvider> | undefined;
let model: Promise<LanguageModel> | undefined;

/** Time a call needs once admitted: waiting stops this long before the invocation's deadline. */
const CALL_RESERVE_MS = { search: 60_000, llm: 50_000 };

/** Undefined when no pacing table is configured: the provider is called unpaced. */
function pacing(provider: 'tavily' | 'anthropic', key: string, limits: RateLimits, largest: Cost, reserveMs: number): Omit<PacingOptions, 'unavailableRetries'> | undefined {
  const table = config.pacingTableName;
  if (!table) return undefined;
  const onStoreError = (error: unknown) => logger.warn('provider rate limit unavailable; calling unpaced', { provider, error });
  return {
    limiter: createRateLimiter({ provider, key, limits, largest, store: new DynamoRateLimitStore(documentClient(), table), onStoreError }),
    maxWaitMs: config.pacingMaxWaitMs,
    deadline: () => {
      const deadline = invocationDeadline();
      return deadline === undefined ? undefined : deadline - reserveMs;
    },
  };
}

export function searchProvider(): Promise<SearchProvider> {
  search ??= apiKey('tavily').then((key) => {
    let provider = createTavilySearch({ apiKey: key, baseUrl: config.tavilyBaseUrl });
    const paced = pacing('tavily', providerLimitKey('tavily'), { requests: config.providerLimits.searchRequestsPerMinute }, {}, CALL_RESERVE_MS.search);
    if (paced) provider = withSearchPacing(provider, paced);
    const table = config.searchCacheTableName;
    if (!table) return provider;
    return withSearchCache(provider, new DynamoSearchCache(documentClient(), table), {
      ttlSeconds: config.searchCacheTtlSeconds,
      onCacheError: (error) => logger.warn('search cache unavailable; searching without it', { error }),
    });
  });
  return search;
}

/** The search provider for one research step: answers the step already had are not bought again on its retry. */
export async function stepSearchProvider(step: ResearchStep): Promise<SearchProvider> {
  const provider = await searchProvider();
  const table = config.searchJournalTableName;
  if (!table) return provider;
  return withSearchJournal(provider, new DynamoSearchJournal(documentClient(), table), step, {
    onJournalError: (error) => logger.warn('search journal unavailable; a retry may search again', { error }),
  });
}

export function languageModel(): Promise<LanguageModel> {
  model ??= apiKey('anthropic').then((key) => {
    const { llmRequestsPerMinute, llmInputTokensPerMinute, llmOutputTokensPerMinute } = config.providerLimits;
    // Anthropic's limits are per model class: the model is part of the key.
    const paced = pacing(
      'anthropic',
      `${providerLimitKey('anthropic')}#${config.llmModel}`,
      { requests: llmRequestsPerMinute, input_tokens: llmInputTokensPerMinute, output_tokens: llmOutputTokensPerMinute },
      LARGEST_LLM_REQUEST,
      CALL_RESERVE_MS.llm,
    );
    // Paced, the SDK must not retry on its own (its retries would bypass the limit): the pacing retries instead, as
    // often as the SDK would have (twice).
    const anthropic = createAnthropicModel({ apiKey: key, model: config.llmModel, baseUrl: config.anthropicBaseUrl, ...(paced ? { maxRetries: 0 } : {}) });
    return paced ? withModelPacing(anthropic, { ...paced, unavailableRetries: 2 }) : anthropic;
  });
  return model;
}
