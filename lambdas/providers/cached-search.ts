/**
 * A search provider that remembers answers for a while. Follow-up rounds, retries after a failed LLM call and
 * re-runs of the same batch then pay for each query once.
 */
import { createHash } from 'node:crypto';
import type { SearchHit, SearchProvider } from './search-provider';
import type { SearchDepth } from '../core/contracts';

export interface SearchCache {
  get(key: string): Promise<SearchHit[] | undefined>;
  put(key: string, hits: SearchHit[], ttlSeconds: number): Promise<void>;
}

/** Queries that differ only in case and spacing are the same question; the two depths are different answers. */
export function searchCacheKey(provider: string, query: string, maxResults: number, depth: SearchDepth = 'basic'): string {
  const normalised = query.toLowerCase().replace(/\s+/g, ' ').trim();
  // Basic keeps the key it had before depths existed, so entries already cached stay valid.
  const scope = depth === 'basic' ? `${provider}` : `${provider}/${depth}`;
  return createHash('sha256').update(`${scope}\n${maxResults}\n${normalised}`).digest('hex');
}

export function withSearchCache(
  provider: SearchProvider,
  cache: SearchCache,
  options: { ttlSeconds: number; onCacheError?: (error: unknown) => void },
): SearchProvider {
  // A broken cache must not fail research: it only costs money, so report it and go to the provider.
  const guarded = async <T>(work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      options.onCacheError?.(error);
      return fallback;
    }
  };
  return {
    name: provider.name,
    async search(query, { maxResults, depth }) {
      const key = searchCacheKey(provider.name, query, maxResults, depth);
      const cached = await guarded(() => cache.get(key), undefined);
      if (cached) return { hits: cached, credits: 0 };
      const response = await provider.search(query, { maxResults, depth });
      await guarded(() => cache.put(key, response.hits, options.ttlSeconds), undefined);
      return response;
    },
  };
}
