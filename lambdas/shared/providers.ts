/** Builds the configured providers once per container. */
import { apiKey, config } from './config';
import { createAnthropicModel } from '../providers/anthropic-model';
import { withSearchCache } from '../providers/cached-search';
import { createTavilySearch } from '../providers/tavily-search';
import { DynamoSearchCache } from '../store/search-cache-store';
import { documentClient } from './aws-clients';
import { logger } from './observability';
import type { LanguageModel } from '../providers/language-model';
import type { SearchProvider } from '../providers/search-provider';

let search: Promise<SearchProvider> | undefined;
let model: Promise<LanguageModel> | undefined;

export function searchProvider(): Promise<SearchProvider> {
  search ??= apiKey('tavily').then((key) => {
    const tavily = createTavilySearch({ apiKey: key, baseUrl: config.tavilyBaseUrl });
    const table = config.searchCacheTableName;
    if (!table) return tavily;
    return withSearchCache(tavily, new DynamoSearchCache(documentClient(), table), {
      ttlSeconds: config.searchCacheTtlSeconds,
      onCacheError: (error) => logger.warn('search cache unavailable; searching without it', { error }),
    });
  });
  return search;
}

export function languageModel(): Promise<LanguageModel> {
  model ??= apiKey('anthropic').then((key) =>
    createAnthropicModel({ apiKey: key, model: config.llmModel, baseUrl: config.anthropicBaseUrl }),
  );
  return model;
}
