/**
 * Builds the configured providers once per container: each search adapter paced to its key's shared rate limit, the
 * hybrid over both when a job asks for it, the search cache in front; for each research step, the step's search
 * journal in front of that. Each model is paced the same way.
 */
import { apiKey, config, providerLimitKey } from './config';
import type { ModelClass, SearchProviderName } from '../core/contracts';
import { createAnthropicModel } from '../providers/anthropic-model';
import { withSearchCache } from '../providers/cached-search';
import { createGoogleSearch } from '../providers/google-search';
import { createHybridSearch } from '../providers/hybrid-search';
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
import { logger, metrics } from './observability';
import type { LanguageModel } from '../providers/language-model';
import type { SearchProvider } from '../providers/search-provider';

/** Built providers by name, with when to build again (Infinity: for the container's life). */
const searches = new Map<SearchProviderName, { provider: Promise<SearchProvider>; until: number }>();
/** How long a hybrid that lacks a key is kept before the keys are looked up again: about the secrets cache's age. */
const ONE_KEY_HYBRID_SECONDS = 300;
const models = new Map<ModelClass, Promise<LanguageModel>>();

/** Time a call needs once admitted: waiting stops this long before the invocation's deadline. */
const CALL_RESERVE_MS = { search: 60_000, llm: 50_000 };

/** Undefined when no pacing table is configured: the provider is called unpaced. */
function pacing(provider: 'tavily' | 'anthropic' | 'gemini', key: string, limits: RateLimits, largest: Cost, reserveMs: number): Omit<PacingOptions, 'unavailableRetries'> | undefined {
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

const tavily = () =>
  apiKey('tavily').then((key) => {
    const provider = createTavilySearch({ apiKey: key, baseUrl: config.tavilyBaseUrl });
    const paced = pacing('tavily', providerLimitKey('tavily'), { requests: config.providerLimits.searchRequestsPerMinute }, {}, CALL_RESERVE_MS.search);
    return paced ? withSearchPacing(provider, paced) : provider;
  });
const google = () =>
  apiKey('gemini').then((key) => {
    const provider = createGoogleSearch({ apiKey: key, model: config.geminiModel, baseUrl: config.geminiBaseUrl });
    const paced = pacing('gemini', providerLimitKey('gemini'), { requests: config.providerLimits.geminiRequestsPerMinute }, {}, CALL_RESERVE_MS.search);
    return paced ? withSearchPacing(provider, paced) : provider;
  });

/**
 * `hybrid` with both keys is both providers; with one key it is that provider alone, so a deployment (or a local
 * run) that has only a Tavily or only a Gemini key works with the default. `lasting` is false when a key was
 * missing: a few minutes later research looks again, and picks up a key put in after deploying.
 */
async function build(name: SearchProviderName): Promise<{ provider: SearchProvider; lasting: boolean }> {
  if (name === 'tavily') return { provider: await tavily(), lasting: true };
  if (name === 'google') return { provider: await google(), lasting: true };
  const [fromTavily, fromGoogle] = await Promise.allSettled([tavily(), google()]);
  if (fromTavily.status === 'fulfilled' && fromGoogle.status === 'fulfilled') {
    const provider = createHybridSearch([fromTavily.value, fromGoogle.value], {
      onFallback: ({ from, to, error }) => {
        // The fallback doing its job: counted, and logged below the warnings an operator must read.
        logger.info('search query moved to the other provider', { from, to, error: error.message });
        metrics.addMetric('SearchFallback', 'Count', 1);
      },
    });
    return { provider, lasting: true };
  }
  const available = [fromTavily, fromGoogle].find((result) => result.status === 'fulfilled');
  const missing = [fromTavily, fromGoogle].filter((result) => result.status === 'rejected').map((result) => String(result.reason?.message ?? result.reason));
  if (!available) throw new Error(`configuration: hybrid search needs a Tavily or a Gemini key; ${missing.join('; ')}`);
  logger.warn('hybrid search runs on one provider: the other has no key', { provider: available.value.name, missing });
  return { provider: available.value, lasting: false };
}

function withCache(provider: SearchProvider): SearchProvider {
  const table = config.searchCacheTableName;
  if (!table) return provider;
  return withSearchCache(provider, new DynamoSearchCache(documentClient(), table), {
    ttlSeconds: config.searchCacheTtlSeconds,
    onCacheError: (error) => logger.warn('search cache unavailable; searching without it', { error }),
  });
}

export function searchProvider(name: SearchProviderName): Promise<SearchProvider> {
  const cached = searches.get(name);
  if (cached && cached.until > Date.now()) return cached.provider;
  const entry = {
    until: Infinity,
    provider: build(name).then(
      ({ provider, lasting }) => {
        if (!lasting) entry.until = Date.now() + ONE_KEY_HYBRID_SECONDS * 1000;
        return withCache(provider);
      },
      // A failed build (no key yet, Secrets Manager unreachable) is not remembered: the next call tries again.
      (error: unknown) => {
        if (searches.get(name) === entry) searches.delete(name);
        throw error;
      },
    ),
  };
  searches.set(name, entry);
  return entry.provider;
}

/** The search provider for one research step: answers the step already had are not bought again on its retry. */
export async function stepSearchProvider(step: ResearchStep, name: SearchProviderName): Promise<SearchProvider> {
  const provider = await searchProvider(name);
  const table = config.searchJournalTableName;
  if (!table) return provider;
  return withSearchJournal(provider, new DynamoSearchJournal(documentClient(), table), step, {
    onJournalError: (error) => logger.warn('search journal unavailable; a retry may search again', { error }),
  });
}

/** The deployment's model of a class (a job's tier chooses the class of each step). */
export function languageModel(modelClass: ModelClass): Promise<LanguageModel> {
  let model = models.get(modelClass);
  if (model) return model;
  const modelId = config.llmModels[modelClass];
  model = apiKey('anthropic').then((key) => {
    const { llmRequestsPerMinute, llmInputTokensPerMinute, llmOutputTokensPerMinute } = config.providerLimits;
    // Anthropic's limits are per model class: the model is part of the key.
    const paced = pacing(
      'anthropic',
      `${providerLimitKey('anthropic')}#${modelId}`,
      { requests: llmRequestsPerMinute, input_tokens: llmInputTokensPerMinute, output_tokens: llmOutputTokensPerMinute },
      LARGEST_LLM_REQUEST,
      CALL_RESERVE_MS.llm,
    );
    // Paced, the SDK must not retry on its own (its retries would bypass the limit): the pacing retries instead, as
    // often as the SDK would have (twice).
    const anthropic = createAnthropicModel({ apiKey: key, model: modelId, baseUrl: config.anthropicBaseUrl, ...(paced ? { maxRetries: 0 } : {}) });
    return paced ? withModelPacing(anthropic, { ...paced, unavailableRetries: 2 }) : anthropic;
  });
  models.set(modelClass, model);
  return model;
}
