import { describe, expect, it } from 'vitest';
import { searchCacheKey, withSearchCache, type SearchCache } from '../../lambdas/providers/cached-search';
import type { SearchHit, SearchProvider } from '../../lambdas/providers/search-provider';

const hit: SearchHit = { url: 'https://acme.example', title: 'Acme', content: 'Acme makes anvils.', score: 0.9 };

function countingProvider(): SearchProvider & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'tavily',
    calls,
    async search(query) {
      calls.push(query);
      return { hits: [hit], credits: 1 };
    },
  };
}

function memoryCache(): SearchCache & { ttls: number[] } {
  const items = new Map<string, SearchHit[]>();
  const ttls: number[] = [];
  return {
    ttls,
    async get(key) {
      return items.get(key);
    },
    async put(key, hits, ttl) {
      items.set(key, hits);
      ttls.push(ttl);
    },
  };
}

describe('withSearchCache', () => {
  it('asks the provider once per query and charges nothing for a cached answer', async () => {
    const provider = countingProvider();
    const cache = memoryCache();
    const search = withSearchCache(provider, cache, { ttlSeconds: 60 });
    expect(await search.search('Acme CEO', { maxResults: 5 })).toEqual({ hits: [hit], credits: 1 });
    expect(await search.search('  acme   ceo ', { maxResults: 5 })).toEqual({ hits: [hit], credits: 0 });
    expect(provider.calls).toEqual(['Acme CEO']);
    expect(cache.ttls).toEqual([60]);
  });

  it('keeps answers for different result counts apart', () => {
    expect(searchCacheKey('tavily', 'Acme', 5)).not.toBe(searchCacheKey('tavily', 'Acme', 10));
    expect(searchCacheKey('tavily', 'Acme', 5)).not.toBe(searchCacheKey('other', 'Acme', 5));
  });

  it('searches anyway when the cache fails, and reports the failure', async () => {
    const provider = countingProvider();
    const errors: unknown[] = [];
    const broken: SearchCache = {
      get: async () => {
        throw new Error('table missing');
      },
      put: async () => {
        throw new Error('table missing');
      },
    };
    const search = withSearchCache(provider, broken, { ttlSeconds: 60, onCacheError: (e) => errors.push(e) });
    expect((await search.search('Acme', { maxResults: 5 })).hits).toEqual([hit]);
    expect(provider.calls).toHaveLength(1);
    expect(errors).toHaveLength(2);
  });
});
