/**
 * The search providers end to end on the local runtime, with Tavily down for the whole run: hybrid batches finish on
 * Gemini, a provider that always fails is named in the company's failure, and a cut-off body is retried.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { jobKeys } from '../../lambdas/core/job-layout';
import { loadCorpus } from '../../local/stand-ins/corpus';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
const corpusUrls = new Set(loadCorpus('examples/corpus').map((d) => d.url));

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
    // No search cache: every round of every batch reaches the stand-ins, so their counts are the searches.
    searchCache: false,
    // Tavily answers every request with a 500: an outage for the length of the run.
    randomFaults: {
      tavily: { error: 1, seed: 8 },
      // One cut-off body from each of the others, for one company each.
      gemini: { malformed: 1, match: 'Tallowmere Payments', limit: 1 },
      anthropic: { malformed: 1, match: 'Saltreed Energy Storage', limit: 1 },
    },
    faults: { gemini: [{ match: 'Quenvale Fieldworks', status: 503 }] },
  });
});

afterAll(async () => {
  await runtime?.stop();
});

/** Submits a batch, waits for it, and returns its results by company name. */
async function runBatch(companies: string[], options: Record<string, unknown> = {}): Promise<Map<string, CompanyResult>> {
  const submitted = await runtime.api.submitBatch({ companies, extraction_schema: schema, max_iterations: 1, ...options });
  expect(submitted.statusCode, JSON.stringify(submitted.body)).toBe(202);
  const execution = await runtime.waitForJob(submitted.body.job_id);
  expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  const jsonl = (await runtime.results.getText(jobKeys.jsonl(submitted.body.job_id)))!;
  const results = jsonl.trim().split('\n').map((line) => JSON.parse(line) as CompanyResult);
  return new Map(results.map((r) => [r.company_name, r]));
}

describe('a hybrid batch while Tavily is down', () => {
  let results: Map<string, CompanyResult>;
  let sent: { tavily: number; gemini: number; anthropic: number };

  beforeAll(async () => {
    const before = runtime.standInRequests()!;
    // Three queries a company (not the standard tier's one), so that both providers get a share of each round.
    results = await runBatch(['Brightgull Robotics', 'Tallowmere Payments', 'Saltreed Energy Storage', 'Quenvale Fieldworks'], { search_provider: 'hybrid', max_queries: 3 });
    const after = runtime.standInRequests()!;
    sent = { tavily: after.tavily - before.tavily, gemini: after.gemini - before.gemini, anthropic: after.anthropic - before.anthropic };
  });

  it('completes every company Gemini can answer for, with the facts of the corpus', () => {
    expect(results.get('Brightgull Robotics')).toMatchObject({
      status: 'completed',
      data: { founded_year: 2014, ceo: 'Mette Langgaard', employee_count: 340, headquarters: 'Aarhus, Denmark' },
    });
    expect(results.get('Tallowmere Payments')).toMatchObject({ status: 'completed', data: { headquarters: 'Nairobi, Kenya' } });
    expect(results.get('Saltreed Energy Storage')!.status).toBe('completed');
  });

  it('asked Tavily its share of the queries, which all failed, and Gemini all of them', () => {
    expect(sent.tavily).toBeGreaterThan(0);
    expect(runtime.injectedFaults()!.tavily.error).toBe(runtime.standInRequests()!.tavily);
    // Every query reached Gemini, directly or moved there from Tavily: at least 3 a company.
    expect(sent.gemini).toBeGreaterThanOrEqual(4 * 3);
  });

  it('cites the pages themselves, not Gemini grounding redirects', () => {
    for (const name of ['Brightgull Robotics', 'Tallowmere Payments']) {
      const sources = Object.values(results.get(name)!.sources);
      expect(sources.length, name).toBeGreaterThan(0);
      for (const url of sources) expect(corpusUrls.has(url), url).toBe(true);
    }
  });

  it('charges Gemini grounding for the searches', () => {
    const brightgull = results.get('Brightgull Robotics')!;
    // Three grounded prompts of 2.5 Flash at $0.035 each, before tokens.
    expect(brightgull.cost.usd).toBeGreaterThan(3 * 0.035);
  });

  it('retries a research step whose search answer was cut off, and an extraction whose LLM answer was', () => {
    expect(runtime.injectedFaults()!.gemini.malformed).toBe(1);
    expect(runtime.injectedFaults()!.anthropic.malformed).toBe(1);
    expect(results.get('Tallowmere Payments')!.status).toBe('completed');
    expect(results.get('Saltreed Energy Storage')!.status).toBe('completed');
  });

  it('records a company neither provider can search for as failed, naming both', () => {
    const quenvale = results.get('Quenvale Fieldworks')!;
    expect(quenvale.status).toBe('failed');
    expect(quenvale.failure_reason).toMatch(/^ProviderUnavailable: hybrid: both providers failed: /);
    expect(quenvale.failure_reason).toContain('google: 503 UNAVAILABLE');
    expect(quenvale.failure_reason).toContain('tavily: HTTP 500: Internal server error');
  });
});

describe('a batch on one provider', () => {
  it('with google: a company Gemini always fails is failed with google named; the others complete', async () => {
    const results = await runBatch(['Quenvale Fieldworks', 'Mercury Freight'], { search_provider: 'google' });
    expect(results.get('Quenvale Fieldworks')).toMatchObject({ status: 'failed', failure_reason: expect.stringMatching(/^ProviderUnavailable: google: 503 UNAVAILABLE/) });
    expect(results.get('Mercury Freight')!.status).toBe('completed');
  });

  it('with tavily: no fallback, so the outage fails the company, with tavily named', async () => {
    const before = runtime.standInRequests()!;
    const results = await runBatch(['Anglerlight Games'], { search_provider: 'tavily' });
    expect(results.get('Anglerlight Games')).toMatchObject({ status: 'failed', failure_reason: expect.stringMatching(/^ProviderUnavailable: tavily: /) });
    expect(runtime.standInRequests()!.gemini).toBe(before.gemini);
  });
});
