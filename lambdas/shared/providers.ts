/** Builds the configured providers once per container. */
import { apiKey, config } from './config';
import { createAnthropicModel } from '../providers/anthropic-model';
import { createTavilySearch } from '../providers/tavily-search';
import type { LanguageModel } from '../providers/language-model';
import type { SearchProvider } from '../providers/search-provider';

let search: Promise<SearchProvider> | undefined;
let model: Promise<LanguageModel> | undefined;

export function searchProvider(): Promise<SearchProvider> {
  search ??= apiKey('tavily').then((key) => createTavilySearch({ apiKey: key, baseUrl: config.tavilyBaseUrl }));
  return search;
}

export function languageModel(): Promise<LanguageModel> {
  model ??= apiKey('anthropic').then((key) =>
    createAnthropicModel({ apiKey: key, model: config.llmModel, baseUrl: config.anthropicBaseUrl }),
  );
  return model;
}
