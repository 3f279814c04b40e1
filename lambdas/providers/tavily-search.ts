/** Tavily search through @tavily/core. */
import { tavily } from '@tavily/core';
import { ProviderError, type ProviderErrorName } from './provider-error';
import type { SearchProvider, SearchResponse } from './search-provider';
import { creditsPerSearch } from '../core/tiers';

export interface TavilyOptions {
  apiKey: string;
  /** Set to talk to a stand-in (or a proxy); the SDK reads no environment variable for it. */
  baseUrl?: string;
  timeoutSeconds?: number;
}

/**
 * @tavily/core throws plain Errors with the HTTP status folded into the message (or dropped),
 * so the kind of failure is recovered from the text.
 */
export function classifyTavilyError(message: string): ProviderErrorName {
  const text = message.toLowerCase();
  // Checked first: the SDK's timeout message carries the timeout in seconds, which may look like a status.
  if (/timed out|timeout|econnreset|socket hang up/.test(text)) return 'ProviderUnavailable';
  if (/\b429\b|rate limit|too many requests/.test(text)) return 'ProviderThrottled';
  if (/\b(401|403)\b|unauthori[sz]ed|invalid api key|forbidden|\b400\b|bad request|\b432\b|\b433\b|usage limit/.test(text)) {
    return 'ProviderRejected';
  }
  return 'ProviderUnavailable';
}

export function createTavilySearch(options: TavilyOptions): SearchProvider {
  const client = tavily({ apiKey: options.apiKey, ...(options.baseUrl ? { apiBaseURL: options.baseUrl } : {}) });
  return {
    name: 'tavily',
    async search(query, { maxResults, depth = 'basic' }): Promise<SearchResponse> {
      try {
        const response = await client.search(query, { maxResults, searchDepth: depth, timeout: options.timeoutSeconds ?? 20 });
        return {
          hits: response.results.map((r) => ({ url: r.url, title: r.title, content: r.content, score: r.score })),
          credits: creditsPerSearch(depth),
        };
      } catch (error) {
        const message = (error as Error).message;
        throw new ProviderError(classifyTavilyError(message), 'tavily', message);
      }
    },
  };
}
