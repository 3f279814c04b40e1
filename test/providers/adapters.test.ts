/** The provider adapters with the real SDK clients, against the local stand-ins: answers and failure kinds. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../lambdas/providers/anthropic-model';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { createTavilySearch } from '../../lambdas/providers/tavily-search';
import { startAnthropicStandIn } from '../../local/stand-ins/anthropic-stand-in';
import type { StandIn } from '../../local/stand-ins/faults';
import { startTavilyStandIn } from '../../local/stand-ins/tavily-stand-in';

const documents = [
  {
    url: 'https://kestrel-looms.example/about',
    title: 'Kestrel Looms — About',
    content: 'Kestrel Looms weaves technical fabrics.\n\n- Founded: 1998\n- Employees: 1,250',
  },
];

let tavily: StandIn;
let anthropic: StandIn;

beforeAll(async () => {
  tavily = await startTavilyStandIn({
    documents,
    apiKey: 'tvly-test',
    faults: [
      { match: 'throttled', status: 429 },
      { match: 'broken', status: 503 },
    ],
  });
  anthropic = await startAnthropicStandIn({
    apiKey: 'sk-test',
    faults: [
      { match: 'throttled', status: 429 },
      { match: 'overloaded', status: 529 },
      { match: 'refused', status: 400 },
    ],
  });
});

afterAll(async () => {
  await tavily?.close();
  await anthropic?.close();
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('Tavily adapter', () => {
  const search = () => createTavilySearch({ apiKey: 'tvly-test', baseUrl: tavily.url });

  it('returns hits with scores and charges one credit for a basic search', async () => {
    const response = await search().search('Kestrel Looms', { maxResults: 3 });
    expect(response.credits).toBe(1);
    expect(response.hits[0]).toMatchObject({ url: documents[0]!.url, title: documents[0]!.title });
    expect(response.hits[0]!.score).toBeGreaterThan(0);
  });

  it('tells a rate limit, an outage and a bad key apart', async () => {
    expect((await failure(search().search('throttled query', { maxResults: 3 }))).name).toBe('ProviderThrottled');
    expect((await failure(search().search('broken query', { maxResults: 3 }))).name).toBe('ProviderUnavailable');
    const wrongKey = createTavilySearch({ apiKey: 'tvly-wrong', baseUrl: tavily.url });
    const rejected = await failure(wrongKey.search('Kestrel Looms', { maxResults: 3 }));
    expect(rejected.name).toBe('ProviderRejected');
    expect(rejected.retryable).toBe(false);
  });
});

describe('Anthropic adapter', () => {
  const model = () => createAnthropicModel({ apiKey: 'sk-test', model: 'claude-sonnet-4-6', baseUrl: anthropic.url, maxRetries: 0 });
  const notesRequest = (prompt: string) => ({ system: 'Write notes.', prompt, maxTokens: 256 });

  it('writes text and reports its token usage', async () => {
    const prompt = `<source id="1" url="${documents[0]!.url}" title="About">\n${documents[0]!.content}\n</source>`;
    const { text, usage } = await model().write(notesRequest(prompt));
    expect(text).toContain('- Founded: 1998 [1]');
    expect(usage.input_tokens).toBeGreaterThan(0);
    expect(usage.output_tokens).toBeGreaterThan(0);
  });

  it('returns the forced tool call as a value', async () => {
    const { value } = await model().structured({
      ...notesRequest(`- Founded: 1998 [1]\n\nSources:\n[1] ${documents[0]!.url}`),
      toolName: 'record_company_data',
      toolDescription: 'Record the fields.',
      inputSchema: {
        type: 'object',
        properties: {
          data: { type: 'object', properties: { founded_year: { type: 'integer', description: 'Year founded' } } },
          field_sources: { type: 'object' },
          confidence_score: { type: 'number' },
        },
      },
    });
    expect(value).toMatchObject({ data: { founded_year: 1998 }, field_sources: { founded_year: documents[0]!.url } });
  });

  it('counts 429 and 529 as throttling, other 4xx as rejected', async () => {
    expect((await failure(model().write(notesRequest('throttled')))).name).toBe('ProviderThrottled');
    expect((await failure(model().write(notesRequest('overloaded')))).name).toBe('ProviderThrottled');
    expect((await failure(model().write(notesRequest('refused')))).name).toBe('ProviderRejected');
  });
});
