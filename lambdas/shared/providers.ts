/** Builds the configured providers once per container. */
import { apiKey, config } from './config';
import type { SearchProviderName } from '../core/contracts';
import { createAnthropicModel } from '../providers/anthropic-model';
import { withSearchCache } from '../providers/cached-search';
import { createGoogleSearch } from '../providers/google-search';
import { createHybridSearch } from '../providers/hybrid-search';
import { createTavilySearch } from '../providers/tavily-search';
import { DynamoSearchCache } from '../store/search-cache-store';
import { documentClient } from './aws-clients';
import { logger, metrics } from './observability';
import type { LanguageModel } from '../providers/language-model';
import type { SearchProvider } from '../providers/search-provider';

/** Built providers by name, with when to build again (Infinity: for the container's life). */
const searches = new Map<SearchProviderName, { provider: Promise<SearchProvider>; until: number }>();
/** How long a hybrid that lacks a key is kept before the keys are looked up again: about the secrets cache's age. */
const ONE_KEY_HYBRID_SECONDS = 300;
let model: Promise<LanguageModel> | undefined;

const tavily = () => apiKey('tavily').then((key) => createTavilySearch({ apiKey: key, baseUrl: config.tavilyBaseUrl }));
const google = () =>
  apiKey('gemini').then((key) => createGoogleSearch({ apiKey: key, model: config.geminiModel, baseUrl: config.geminiBaseUrl }));

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

export function languageModel(): Promise<LanguageModel> {
  model ??= apiKey('anthropic').then((key) =>
    createAnthropicModel({ apiKey: key, model: config.llmModel, baseUrl: config.anthropicBaseUrl }),
  );
  return model;
}
