/** Builds the configured providers once per container. */
import type { ModelClass } from '../core/contracts';
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
const models = new Map<ModelClass, Promise<LanguageModel>>();

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

/** The deployment's model of a class (a tier chooses the class per step). */
export function languageModel(modelClass: ModelClass): Promise<LanguageModel> {
  let model = models.get(modelClass);
  if (!model) {
    model = apiKey('anthropic').then((key) =>
      createAnthropicModel({ apiKey: key, model: config.llmModels[modelClass], baseUrl: config.anthropicBaseUrl }),
    );
    models.set(modelClass, model);
  }
  return model;
}
