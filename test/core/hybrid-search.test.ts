/** The hybrid provider's rules, with scripted providers: who gets a query, when it moves, which failure wins. */
import { describe, expect, it } from 'vitest';
import { createHybridSearch } from '../../lambdas/providers/hybrid-search';
import { ProviderError, type ProviderErrorName } from '../../lambdas/providers/provider-error';
import type { SearchProvider } from '../../lambdas/providers/search-provider';

/** A provider that answers, or fails with `failWith(query)` when that returns a failure. */
function scripted(name: string, failWith: (query: string) => ProviderErrorName | undefined = () => undefined) {
  const queries: string[] = [];
  const provider: SearchProvider = {
    name,
    async search(query) {
      queries.push(query);
      const failure = failWith(query);
      if (failure) throw new ProviderError(failure, name, `${failure} for "${query}"`, failure === 'ProviderThrottled' ? 7_000 : undefined);
      return { hits: [{ url: `https://${name}.example/${encodeURIComponent(query)}`, title: name, content: query, score: 1 }], credits: 1 };
    },
  };
  return { provider, queries };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const options = { maxResults: 5 };

describe('hybrid search', () => {
  it('gives the queries to the two providers in turn', async () => {
    const a = scripted('tavily');
    const b = scripted('google');
    const hybrid = createHybridSearch([a.provider, b.provider]);
    await Promise.all(['q1', 'q2', 'q3', 'q4'].map((q) => hybrid.search(q, options)));
    expect(a.queries).toEqual(['q1', 'q3']);
    expect(b.queries).toEqual(['q2', 'q4']);
    expect(hybrid.name).toBe('hybrid');
  });

  it.each(['ProviderThrottled', 'ProviderUnavailable'] as const)('sends a query the first provider fails with %s to the other', async (kind) => {
    const a = scripted('tavily', () => kind);
    const b = scripted('google');
    const moves: string[] = [];
    const hybrid = createHybridSearch([a.provider, b.provider], { onFallback: ({ from, to, error }) => moves.push(`${from}→${to}: ${error.name}`) });
    const response = await hybrid.search('q1', options);
    expect(response.hits[0]!.title).toBe('google');
    expect(a.queries).toEqual(['q1']);
    expect(b.queries).toEqual(['q1']);
    expect(moves).toEqual([`tavily→google: ${kind}`]);
  });

  it('does not hide a rejected query behind the other provider', async () => {
    const a = scripted('tavily', () => 'ProviderRejected');
    const b = scripted('google');
    const error = await failure(createHybridSearch([a.provider, b.provider]).search('q1', options));
    expect(error).toMatchObject({ name: 'ProviderRejected', provider: 'tavily' });
    expect(b.queries).toEqual([]);
  });

  it('when both fail, raises the failure the state machine waits longest for, naming both providers', async () => {
    const a = scripted('tavily', () => 'ProviderUnavailable');
    const b = scripted('google', () => 'ProviderThrottled');
    const error = await failure(createHybridSearch([a.provider, b.provider]).search('q1', options));
    expect(error.name).toBe('ProviderThrottled');
    expect(error.provider).toBe('hybrid');
    expect(error.retryAfterMs).toBe(7_000);
    expect(error.message).toMatch(/^hybrid: both providers failed: google: ProviderThrottled .*; tavily: ProviderUnavailable/);
  });

  it('raises an outage when both are down, and a rejection only when nothing better is left', async () => {
    const down = await failure(
      createHybridSearch([scripted('tavily', () => 'ProviderUnavailable').provider, scripted('google', () => 'ProviderUnavailable').provider]).search('q', options),
    );
    expect(down.name).toBe('ProviderUnavailable');
    const rejectedSecond = await failure(
      createHybridSearch([scripted('tavily', () => 'ProviderThrottled').provider, scripted('google', () => 'ProviderRejected').provider]).search('q', options),
    );
    expect(rejectedSecond.name).toBe('ProviderThrottled');
  });

  it('counts an error that is no ProviderError as an outage of that provider', async () => {
    const broken: SearchProvider = {
      name: 'tavily',
      async search() {
        throw new TypeError('fetch failed');
      },
    };
    const b = scripted('google');
    const response = await createHybridSearch([broken, b.provider]).search('q1', options);
    expect(response.hits[0]!.title).toBe('google');
  });
});
