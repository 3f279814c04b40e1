/**
 * The Google adapter with the real @google/genai client against the Gemini stand-in: grounded results, their cost,
 * and every kind of failure the API answers with, raw HTTP included.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geminiSearchCredits } from '../../lambdas/core/pricing';
import { createGoogleSearch, groundedHits } from '../../lambdas/providers/google-search';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { startGeminiStandIn, type GeminiStandIn } from '../../local/stand-ins/gemini-stand-in';

const documents = [
  {
    url: 'https://kestrel-looms.example/about',
    title: 'Kestrel Looms — About',
    content: 'Kestrel Looms weaves technical fabrics in Bradford.\n\n- Founded: 1998\n- Employees: 1,250',
  },
  {
    url: 'https://kestrel-looms.example/leadership',
    title: 'Kestrel Looms — Leadership',
    content: 'Kestrel Looms is run by Ada Quill.\n\n- CEO: Ada Quill\n- Founded: 1998',
  },
  { url: 'https://otter-mills.example/', title: 'Otter Mills', content: 'Otter Mills spins yarn.\n\n- Founded: 1911' },
];

const KEY = 'gemini-test';
let gemini: GeminiStandIn;
/** A second server for faults at rates, so its draws are not spent by the other tests. */
let flaky: GeminiStandIn;

beforeAll(async () => {
  gemini = await startGeminiStandIn({
    documents,
    apiKey: KEY,
    faults: [
      { match: 'throttled', status: 429 },
      { match: 'broken', status: 500 },
      { match: 'unavailable', status: 503 },
      { match: 'flaky', status: 500, times: 1 },
    ],
  });
  flaky = await startGeminiStandIn({ documents, apiKey: KEY, randomFaults: { throttled: 1, retryAfterMs: 17_000, match: 'slowly' } });
});

afterAll(async () => {
  await gemini?.close();
  await flaky?.close();
});

const search = (overrides: Partial<Parameters<typeof createGoogleSearch>[0]> = {}) =>
  createGoogleSearch({ apiKey: KEY, baseUrl: gemini.url, ...overrides });

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('Google adapter', () => {
  it('turns grounding metadata into one hit per page, with the page URL behind the redirect and the text it supports', async () => {
    const response = await search().search('Kestrel Looms', { maxResults: 5 });
    expect(response.hits.map((h) => h.url)).toEqual(['https://kestrel-looms.example/about', 'https://kestrel-looms.example/leadership']);
    const [about, leadership] = response.hits;
    // The API names a page by its domain.
    expect(about!.title).toBe('kestrel-looms.example');
    expect(about!.content).toBe('Kestrel Looms weaves technical fabrics in Bradford.\n- Founded: 1998\n- Employees: 1,250');
    // A fact two pages state is one sentence of the answer, supported by both; a page's text follows the answer's order.
    expect(leadership!.content).toBe('- Founded: 1998\nKestrel Looms is run by Ada Quill.\n- CEO: Ada Quill');
    expect(about!.score).toBeGreaterThan(leadership!.score);
  });

  it('charges the grounded prompt and its tokens, in search credits', async () => {
    const response = await search().search('Kestrel Looms', { maxResults: 5 });
    // $35 per 1,000 grounded prompts is 7 credits of $0.005; the tokens add a little.
    expect(response.credits).toBeGreaterThan(7);
    expect(response.credits).toBeLessThan(7.1);
    expect(geminiSearchCredits('gemini-2.5-flash', { searchQueries: 0, inputTokens: 100, outputTokens: 10 })).toBeLessThan(0.1);
    expect(geminiSearchCredits('gemini-3-flash-preview', { searchQueries: 2, inputTokens: 0, outputTokens: 0 })).toBeCloseTo(5.6, 5);
  });

  it('keeps at most the results asked for, and finds nothing for what the corpus does not know', async () => {
    expect((await search().search('founded', { maxResults: 1 })).hits).toHaveLength(1);
    const none = await search().search('Ptarmigan Ledgerworks', { maxResults: 5 });
    expect(none.hits).toEqual([]);
  });

  it('keeps the redirect when it cannot be followed', async () => {
    const chunkUri = `${gemini.url}/grounding-api-redirect/bm90LWEtdXJs`;
    const redirect = await fetch(chunkUri, { method: 'HEAD', redirect: 'manual' });
    expect(redirect.status).toBe(404);
    const hits = groundedHits(
      {
        candidates: [
          {
            groundingMetadata: {
              groundingChunks: [{ web: { uri: 'https://a.example/x' } }, { retrievedContext: { uri: 'gs://bucket/doc' } }, { web: { uri: 'https://b.example/' } }],
              groundingSupports: [{ segment: { text: 'Only a.' }, groundingChunkIndices: [0, 1] }],
            },
          },
        ],
      } as any,
      5,
    );
    // Chunks no sentence leans on, and chunks that are not web pages, are no hits; a missing title is the host.
    expect(hits).toEqual([{ url: 'https://a.example/x', title: 'a.example', content: 'Only a.', score: expect.any(Number) }]);
  });

  it('maps a throttle to ProviderThrottled with the RetryInfo delay, outages to ProviderUnavailable', async () => {
    const throttled = await failure(search({ baseUrl: flaky.url }).search('slowly, please', { maxResults: 5 }));
    expect(throttled.name).toBe('ProviderThrottled');
    expect(throttled.retryAfterMs).toBe(17_000);
    expect(throttled.message).toMatch(/^google: 429 RESOURCE_EXHAUSTED: Rate limit exceeded/);
    expect((await failure(search().search('throttled query', { maxResults: 5 }))).name).toBe('ProviderThrottled');
    expect((await failure(search().search('broken query', { maxResults: 5 }))).message).toMatch(/^google: 500 INTERNAL/);
    expect((await failure(search().search('unavailable query', { maxResults: 5 }))).name).toBe('ProviderUnavailable');
  });

  it('maps a bad key (the API answers 400) to ProviderRejected, which is not retried', async () => {
    const rejected = await failure(search({ apiKey: 'wrong' }).search('Kestrel Looms', { maxResults: 5 }));
    expect(rejected).toMatchObject({ name: 'ProviderRejected', retryable: false });
    expect(rejected.message).toMatch(/API key not valid/);
  });

  it('retries a 5xx itself when told to, and gives up after its attempts', async () => {
    const before = gemini.searches;
    const retrying = search({ retry: { attempts: 2, initialDelaySeconds: 0.001 } });
    const response = await retrying.search('flaky Kestrel Looms', { maxResults: 5 });
    expect(response.hits.length).toBeGreaterThan(0);
    expect(gemini.searches - before).toBe(2);
    const always = await failure(retrying.search('broken Kestrel Looms', { maxResults: 5 }));
    expect(always.name).toBe('ProviderUnavailable');
    expect(gemini.searches - before).toBe(4);
  });

  it('answers raw HTTP in the Gemini API shape', async () => {
    const ok = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'Query: Otter Mills' }] }], tools: [{ google_search: {} }] }),
    });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as any;
    const candidate = body.candidates[0];
    expect(candidate.content.parts[0].text).toBe('Otter Mills spins yarn.\n- Founded: 1911');
    expect(candidate.groundingMetadata.webSearchQueries).toEqual(['Otter Mills']);
    expect(candidate.groundingMetadata.groundingChunks).toEqual([{ web: { uri: expect.stringContaining('/grounding-api-redirect/'), title: 'otter-mills.example' } }]);
    // Byte offsets into the text; a zero start is left out, as the API's JSON does.
    expect(candidate.groundingMetadata.groundingSupports).toEqual([
      { segment: { endIndex: 23, text: 'Otter Mills spins yarn.' }, groundingChunkIndices: [0] },
      { segment: { startIndex: 24, endIndex: 39, text: '- Founded: 1911' }, groundingChunkIndices: [0] },
    ]);
    expect(body.usageMetadata).toMatchObject({ promptTokenCount: expect.any(Number), candidatesTokenCount: expect.any(Number) });
    const redirect = await fetch(candidate.groundingMetadata.groundingChunks[0].web.uri, { redirect: 'manual' });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([302, 'https://otter-mills.example/']);

    const noKey = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash:generateContent`, { method: 'POST', body: '{}' });
    expect(noKey.status).toBe(403);
    expect(await noKey.json()).toEqual({ error: { code: 403, message: expect.any(String), status: 'PERMISSION_DENIED' } });
  });
});
