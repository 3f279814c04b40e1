/** Hybrid search over the real Tavily and Gemini clients, against their stand-ins, counting what each one was sent. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGoogleSearch } from '../../lambdas/providers/google-search';
import { createHybridSearch } from '../../lambdas/providers/hybrid-search';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { createTavilySearch } from '../../lambdas/providers/tavily-search';
import type { StandIn } from '../../local/stand-ins/faults';
import { startGeminiStandIn, type GeminiStandIn } from '../../local/stand-ins/gemini-stand-in';
import { startTavilyStandIn } from '../../local/stand-ins/tavily-stand-in';

const documents = [
  {
    url: 'https://kestrel-looms.example/about',
    title: 'Kestrel Looms — About',
    content: 'Kestrel Looms weaves technical fabrics.\n\n- Founded: 1998\n- Employees: 1,250',
  },
];

let tavily: StandIn;
let gemini: GeminiStandIn;

beforeAll(async () => {
  // Faults by query text, so each test picks which provider fails which query.
  tavily = await startTavilyStandIn({
    documents,
    apiKey: 'tvly-test',
    faults: [
      { match: 'tavily-throttled', status: 429 },
      { match: 'tavily-down', status: 500 },
    ],
  });
  gemini = await startGeminiStandIn({
    documents,
    apiKey: 'gemini-test',
    faults: [
      { match: 'gemini-down', status: 500 },
      { match: 'gemini-throttled', status: 429 },
    ],
  });
});

afterAll(async () => {
  await tavily?.close();
  await gemini?.close();
});

function hybrid() {
  const moves: string[] = [];
  const search = createHybridSearch(
    [createTavilySearch({ apiKey: 'tvly-test', baseUrl: tavily.url }), createGoogleSearch({ apiKey: 'gemini-test', baseUrl: gemini.url })],
    { onFallback: ({ from, to, error }) => moves.push(`${from}→${to} (${error.name})`) },
  );
  return { search, moves };
}

/** Requests each stand-in receives while `work` runs (Gemini's generateContent calls, not its redirects). */
async function sent(work: () => Promise<unknown>): Promise<{ tavily: number; gemini: number }> {
  const before = { tavily: tavily.requests, gemini: gemini.searches };
  await work();
  return { tavily: tavily.requests - before.tavily, gemini: gemini.searches - before.gemini };
}

describe('hybrid search with the real clients', () => {
  it('spreads a round of queries over both providers, and both find the page', async () => {
    const { search, moves } = hybrid();
    let responses: Awaited<ReturnType<typeof search.search>>[] = [];
    const counts = await sent(async () => {
      responses = await Promise.all(['Kestrel Looms', 'Kestrel Looms founded', 'Kestrel Looms employees', 'Kestrel Looms CEO'].map((q) => search.search(q, { maxResults: 5 })));
    });
    expect(counts).toEqual({ tavily: 2, gemini: 2 });
    expect(moves).toEqual([]);
    for (const response of responses) expect(response.hits.map((h) => h.url)).toEqual([documents[0]!.url]);
    // Tavily's credit, Gemini's grounding fee: each query is charged by the provider that answered it.
    expect(responses.map((r) => Math.round(r.credits))).toEqual([1, 7, 1, 7]);
  });

  it('sends a query Tavily rate-limits to Gemini', async () => {
    const { search, moves } = hybrid();
    let response: Awaited<ReturnType<typeof search.search>> | undefined;
    const counts = await sent(async () => (response = await search.search('Kestrel Looms tavily-throttled', { maxResults: 5 })));
    expect(counts).toEqual({ tavily: 1, gemini: 1 });
    expect(moves).toEqual(['tavily→google (ProviderThrottled)']);
    expect(response!.hits[0]!.url).toBe(documents[0]!.url);
  });

  it('sends a query Gemini fails with a 500 to Tavily', async () => {
    const { search, moves } = hybrid();
    await search.search('Kestrel Looms', { maxResults: 5 }); // Tavily's turn
    const counts = await sent(() => search.search('Kestrel Looms gemini-down', { maxResults: 5 }));
    expect(counts).toEqual({ tavily: 1, gemini: 1 });
    expect(moves).toEqual(['google→tavily (ProviderUnavailable)']);
  });

  it('fails a query both providers fail, once each, with the throttle preferred and both reasons given', async () => {
    const { search } = hybrid();
    let error: unknown;
    const counts = await sent(() => search.search('Kestrel Looms tavily-down gemini-throttled', { maxResults: 5 }).catch((e) => (error = e)));
    expect(counts).toEqual({ tavily: 1, gemini: 1 });
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ name: 'ProviderThrottled', provider: 'hybrid' });
    expect((error as Error).message).toMatch(/google: 429 RESOURCE_EXHAUSTED.*; tavily: HTTP 500: Internal server error/);
  });
});
