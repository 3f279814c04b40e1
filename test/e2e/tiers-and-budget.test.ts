/**
 * Tiers and the spending cap end to end on the local runtime: a tier's plan reaches the providers through the
 * state machine (searches, depth, models), every result and the job carry what they cost, and a job that reaches
 * its max_cost_usd ends the companies it has not started failed with reason budget_exhausted, each counted.
 * The map runs one company at a time here, so which companies the cap stops is certain.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, PRICES } from '../../lambdas/core/pricing';
import { jobKeys } from '../../lambdas/core/job-layout';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0, searchCache: false, maxConcurrency: 1 });
});

afterAll(async () => {
  await runtime?.stop();
});

async function runBatch(body: Record<string, unknown>) {
  const submitted = await runtime.api.submitBatch({ extraction_schema: schema, ...body });
  expect(submitted.statusCode, JSON.stringify(submitted.body)).toBe(202);
  const jobId: string = submitted.body.job_id;
  const execution = await runtime.waitForJob(jobId);
  expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  const results = (await runtime.results.getText(jobKeys.jsonl(jobId)))!
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as CompanyResult);
  return { jobId, results, job: (await runtime.api.getJob(jobId)).body };
}

const sum = (results: CompanyResult[], part: (r: CompanyResult) => number) => results.reduce((total, r) => total + part(r), 0);

describe('a tier', () => {
  it('economy: one basic search, one round, the small model only', async () => {
    const { results } = await runBatch({ companies: ['Glassmoth Diagnostics'], tier: 'economy' });
    const [glassmoth] = results;
    // Glassmoth never names its CEO: a second round would be tried if the tier allowed one.
    expect(glassmoth).toMatchObject({ status: 'completed', complete: false, iterations: 1 });
    expect(glassmoth!.cost).toMatchObject({ search_queries: 1, search_credits: 1 });
    expect(Object.keys(glassmoth!.cost.llm)).toEqual([DEFAULT_MODELS.small]);
  });

  it("economy with a domain: reads the company's own site, buys no search, and costs under one search's price", async () => {
    const webBefore = runtime.standInRequests()!.web;
    const tavilyBefore = runtime.standInRequests()!.tavily;
    const { results } = await runBatch({
      companies: [
        { company_name: 'Mercury Freight', domain: 'mercury-freight.example' },
        // A domain with no site behind it: the site cannot be read, so the round searches instead.
        { company_name: 'Ptarmigan Ledgerworks', domain: 'ptarmigan-ledgerworks.example' },
      ],
      tier: 'economy',
    });
    const [mercury, ptarmigan] = results;
    expect(mercury).toMatchObject({ status: 'completed', complete: true, iterations: 1 });
    expect(mercury!.data).toMatchObject({ ceo: 'Joris van Heemstede', products: ['Quaylink', 'ReeferWatch', 'Mercury Portal'] });
    expect(mercury!.cost).toMatchObject({ search_queries: 0, search_credits: 0, search_usd: 0 });
    expect(mercury!.cost.usd).toBeLessThan(PRICES.tavilyCreditUsd);
    // Every value quotes a page of the site, the news page included (linked from the site's menu).
    const urls = Object.values(mercury!.evidence).flat().map((e) => e.url);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^https:\/\/mercury-freight\.example\//);
    expect(urls).toContain('https://mercury-freight.example/news/new-ceo');

    expect(ptarmigan).toMatchObject({ status: 'not_found' });
    expect(ptarmigan!.cost).toMatchObject({ search_queries: 1, search_credits: 1 });
    expect(runtime.standInRequests()!.tavily - tavilyBefore).toBe(1);
    expect(runtime.standInRequests()!.web - webBefore).toBeGreaterThan(1);
  });

  it('standard: a second, targeted round for what is missing; no notes call, the small model extracts', async () => {
    const anthropicBefore = runtime.standInRequests()!.anthropic;
    const { results } = await runBatch({ companies: ['Glassmoth Diagnostics'] });
    const [glassmoth] = results;
    expect(glassmoth).toMatchObject({ status: 'completed', iterations: 2 });
    expect(glassmoth!.cost).toMatchObject({ search_queries: 2, search_credits: 2 });
    expect(Object.keys(glassmoth!.cost.llm)).toEqual([DEFAULT_MODELS.small]);
    // No notes call, and only the first round's extraction: the follow-up search for Glassmoth's CEO finds only the
    // pages the first round read, and the same pages are not put to the model twice.
    expect(runtime.standInRequests()!.anthropic - anthropicBefore).toBe(1);
  });

  it('deep: advanced searches at 2 credits each, more rounds, the large model only; explicit budgets override', async () => {
    const { results } = await runBatch({ companies: ['Glassmoth Diagnostics'], tier: 'deep', max_iterations: 2 });
    const [glassmoth] = results;
    expect(glassmoth!.iterations).toBe(2);
    expect(glassmoth!.cost.search_queries).toBeGreaterThan(2);
    expect(glassmoth!.cost.search_credits).toBe(2 * glassmoth!.cost.search_queries);
    expect(Object.keys(glassmoth!.cost.llm)).toEqual([DEFAULT_MODELS.large]);
  });
});

describe('cost, per result and per job', () => {
  it('prices every result from its usage and sums the counted results on the job', async () => {
    const companies = ['Brightgull Robotics', 'Mercury Freight', 'Ptarmigan Ledgerworks'];
    const { results, job } = await runBatch({ companies, tier: 'economy' });
    for (const result of results.filter((r) => r.company_name !== 'Ptarmigan Ledgerworks')) {
      const { cost } = result;
      expect(cost.search_usd, result.company_name).toBe(cost.search_credits * 0.005);
      expect(cost.llm_usd).toBeGreaterThan(0);
      expect(cost.llm_input_tokens).toBeGreaterThan(0);
      expect(cost.lambda_usd).toBeGreaterThan(0);
      expect(cost.step_functions_usd).toBe(5 * 0.000025);
      expect(cost.usd).toBeCloseTo(cost.search_usd + cost.llm_usd + cost.lambda_usd + cost.step_functions_usd, 6);
    }
    // Not in the corpus: nothing mentions it, so the model is never asked.
    expect(results.find((r) => r.company_name === 'Ptarmigan Ledgerworks')!.cost).toMatchObject({ llm_usd: 0, llm: {} });
    expect(job.cost_usd).toBeCloseTo(sum(results, (r) => r.cost.usd), 6);
    expect(job).not.toHaveProperty('max_cost_usd');
  });
});

describe('a job with max_cost_usd', () => {
  const companies = ['Brightgull Robotics', 'Tallowmere Payments', 'Mercury Freight', 'Saltreed Energy Storage', 'Anglerlight Games'];
  let run: Awaited<ReturnType<typeof runBatch>>;

  beforeAll(async () => {
    // Less than any company costs: the first company spends past it, and the cap stops the rest.
    run = await runBatch({ companies, tier: 'economy', max_cost_usd: 0.000001 });
  });

  it('researches until it reaches the cap, then ends each company not yet started failed with reason budget_exhausted', () => {
    const { results } = run;
    expect(results.map((r) => r.company_name)).toEqual(companies);
    expect(results[0]).toMatchObject({ status: 'completed', complete: true });
    for (const stopped of results.slice(1)) {
      expect(stopped.status, stopped.company_name).toBe('failed');
      expect(stopped.failure_reason).toMatch(/^BudgetExhausted: budget_exhausted: the job has spent \$0\.\d+ of its max_cost_usd of \$0\.000001$/);
      // Stopped before its first search: no provider was paid for it.
      expect(stopped.cost).toMatchObject({ search_queries: 0, search_usd: 0, llm_usd: 0 });
    }
  });

  it('counts every company, none lost: completed + failed = total, and shows the cap and the spend', () => {
    const { job, results } = run;
    expect(job.status).toBe('COMPLETED');
    expect(job.progress).toEqual({ total: 5, completed: 1, failed: 4 });
    expect(job.max_cost_usd).toBe(0.000001);
    expect(job.cost_usd).toBeCloseTo(sum(results, (r) => r.cost.usd), 6);
    expect(job.cost_usd).toBeGreaterThanOrEqual(job.max_cost_usd);
  });
});
