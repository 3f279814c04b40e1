/**
 * A batch end to end on the local runtime: submitted through the API handler, run by the state machine
 * synthesized from the CDK app, stored in the embedded S3 and DynamoDB, with provider failures injected.
 */
import { readFileSync } from 'node:fs';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRequestSchema, type CompanyResult, type ExtractionSchema } from '../../lambdas/core/contracts';
import { executionInput } from '../../lambdas/core/job-layout';
import { recordProblems } from '../../lambdas/core/json-schema';
import { documentClient, sfnClient } from '../../lambdas/shared/aws-clients';
import { DynamoJobStore } from '../../lambdas/store/job-store';
import { jobKeys } from '../../lambdas/core/job-layout';
import { TIERS } from '../../lambdas/core/tiers';
import { loadCorpus } from '../../local/stand-ins/corpus';
import { LOCAL_CALLER, startLocalRuntime, type LocalRuntime } from '../../local/runtime';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
const loadCorpusNames = () => readFileSync('examples/companies.txt', 'utf8').trim().split('\n');
const corpus = loadCorpus('examples/corpus');
const corpusUrls = new Set(corpus.map((d) => d.url));
const corpusTexts = new Map(corpus.map((d) => [d.url, d.content]));

const companies = [
  'Brightgull Robotics',
  'Quenvale Fieldworks', // every search for it fails with 503, at both providers
  'Tallowmere Payments', // one Tavily search is rate-limited once: Gemini answers it (or a retry does)
  'Amberfold Textiles', // the LLM answers 500 every time
  'Glassmoth Diagnostics', // never names its CEO: incomplete after every round
  'Ptarmigan Ledgerworks', // not in the corpus at all
  'Mercury', // two corpus companies share the name
  'Mercury Freight',
];

let runtime: LocalRuntime;
let jobId: string;
let results: CompanyResult[];

const byName = (name: string) => results.find((r) => r.company_name === name)!;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
    // Pacing is tested on its own (test/e2e/pacing.test.ts): here the model's token limits would only slow the
    // 130-company batch of the spending cap to a few model calls a second.
    context: { llmInputTokensPerMinute: 100_000_000, llmOutputTokensPerMinute: 10_000_000 },
    faults: {
      tavily: [
        { match: 'Quenvale Fieldworks', status: 503 },
        { match: 'Tallowmere Payments', status: 429, times: 1 },
      ],
      gemini: [{ match: 'Quenvale Fieldworks', status: 503 }],
      anthropic: [{ match: 'Amberfold Textiles', status: 500 }],
    },
  });
  const submitted = await runtime.api.submitBatch({ companies, extraction_schema: schema, max_iterations: 2 });
  expect(submitted.statusCode).toBe(202);
  jobId = submitted.body.job_id;
  const execution = await runtime.waitForJob(jobId);
  expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');
  const jsonl = await runtime.results.getText(jobKeys.jsonl(jobId));
  results = jsonl!.trim().split('\n').map((line) => JSON.parse(line));
});

afterAll(async () => {
  await runtime?.stop();
});

describe('a submitted batch', () => {
  it('answers 202 with the job and its size', async () => {
    const job = await runtime.api.getJob(jobId);
    expect(job.statusCode).toBe(200);
    expect(job.body).toMatchObject({ job_id: jobId, status: 'COMPLETED' });
    expect(job.body.results.jsonl).toBe(`s3://${runtime.bucket}/${jobKeys.jsonl(jobId)}`);
  });

  it('has exactly one result per company, in batch order, each also stored on its own in S3', async () => {
    expect(results.map((r) => r.company_name)).toEqual(companies);
    expect(results.map((r) => r.index)).toEqual(companies.map((_, i) => i));
    for (const result of results) expect(await runtime.results.getCompanyResult(jobId, result.index)).toEqual(result);
  });

  it('counts every company once in DynamoDB: completed + failed = submitted', async () => {
    const job = (await runtime.api.getJob(jobId)).body;
    expect(job.progress).toEqual({ total: companies.length, completed: companies.length - 2, failed: 2 });
    // What the batch spent: its companies' costs, each added once with its count.
    const spent = results.reduce((sum, r) => sum + r.cost.usd, 0);
    expect(job.cost_usd).toBeGreaterThan(0);
    expect(job.cost_usd).toBeCloseTo(spent, 6);
    const store = new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!);
    const outcomes = await store.countedOutcomes(jobId, companies.length);
    expect([...outcomes.keys()].sort((a, b) => a - b)).toEqual(companies.map((_, i) => i));
    expect([...outcomes.values()].filter((o) => o === 'failed')).toHaveLength(2);
    const { Item } = await documentClient().send(
      new GetCommand({ TableName: process.env.JOBS_TABLE_NAME, Key: { job_id: jobId } }),
    );
    expect(Item!.execution_arn).toContain(jobId);
  });

  it('records a company whose provider keeps failing as failed, with the reason', () => {
    const quenvale = byName('Quenvale Fieldworks');
    expect(quenvale.status).toBe('failed');
    // The default provider is Tavily: the reason names it and what it answered.
    expect(quenvale.failure_reason).toMatch(/^ProviderUnavailable: tavily: HTTP 503: Service unavailable/);
    expect(quenvale.complete).toBe(false);
    const amberfold = byName('Amberfold Textiles');
    expect(amberfold.status).toBe('failed');
    expect(amberfold.failure_reason).toMatch(/ProviderUnavailable: anthropic/);
  });

  it('retries a rate-limited search and completes the company', () => {
    const tallowmere = byName('Tallowmere Payments');
    expect(tallowmere.status).toBe('completed');
    expect(tallowmere.complete).toBe(true);
    expect(tallowmere.data.headquarters).toBe('Nairobi, Kenya');
  });

  it('gives every completed company a record valid against the schema, each value with a passage of a page it read', () => {
    for (const result of results.filter((r) => r.status === 'completed')) {
      // The example schema has no `required`, so a partial record is a valid one too.
      expect(recordProblems(schema, result.data, { partial: false }), result.company_name).toEqual([]);
      for (const [field, url] of Object.entries(result.sources)) {
        expect(result.data[field], `${result.company_name}.${field}`).toBeDefined();
        expect(corpusUrls.has(url), url).toBe(true);
      }
      for (const field of Object.keys(result.data)) {
        const passages = result.evidence[field] ?? [];
        expect(passages.length, `${result.company_name}.${field}`).toBeGreaterThan(0);
        for (const passage of passages) expect(corpusTexts.get(passage.url)?.includes(passage.excerpt), `${passage.url}: ${passage.excerpt}`).toBe(true);
      }
    }
  });

  it('extracts the facts the documents state', () => {
    expect(byName('Brightgull Robotics')).toMatchObject({
      complete: true,
      completeness_score: 1,
      iterations: 1,
      data: { founded_year: 2014, ceo: 'Mette Langgaard', employee_count: 340, total_funding_usd: 62_000_000 },
    });
    expect(byName('Brightgull Robotics').cost.usd).toBeGreaterThan(0);
  });

  it('loops with follow-up queries while a required field is missing, then stops at the budget', () => {
    const glassmoth = byName('Glassmoth Diagnostics');
    expect(glassmoth).toMatchObject({ status: 'completed', complete: false, iterations: 2, missing_fields: ['ceo'] });
    // The follow-up round searched beyond the first round's plan (the standard tier's, as the batch names none).
    expect(glassmoth.cost.search_queries).toBeGreaterThan(TIERS.standard.max_queries);
  });

  it('invents nothing for a company the web does not know: it ends not_found', () => {
    expect(byName('Ptarmigan Ledgerworks')).toMatchObject({ status: 'not_found', complete: false, data: {}, completeness_score: 0 });
  });

  it('flags an ambiguous name instead of passing it off as certain, and keeps to one of its companies', () => {
    const mercury = byName('Mercury');
    expect(mercury.confidence_score).toBeLessThan(0.7);
    expect(mercury.quality_issues.join(' ')).toMatch(/"Mercury" also names other companies/);
    expect(new Set(Object.values(mercury.evidence).flat().map((e) => new URL(e.url).host)).size).toBe(1);
  });

  it('writes results.csv with a header and one row per company', async () => {
    const csv = (await runtime.results.getText(jobKeys.csv(jobId)))!;
    const rows = csv.trim().split('\r\n');
    expect(rows[0]).toMatch(/^index,company_name,status,complete,/);
    expect(rows).toHaveLength(companies.length + 1);
    expect(rows[1]).toContain('Brightgull Robotics');
  });

  it('keeps raw search results in S3 and only references in the state', async () => {
    const raw = await runtime.results.listKeys(`search-results/${jobId}/`);
    expect(raw.length).toBeGreaterThanOrEqual(companies.length - 2);
    const mapResults = await runtime.results.listKeys(`${'map-results'}/${jobId}`);
    expect(mapResults.some((k) => k.endsWith('manifest.json'))).toBe(true);
  });
});

describe('submitting', () => {
  it('returns the same job for a repeated Idempotency-Key, without running or counting it twice', async () => {
    const body = { companies: ['Brightgull Robotics', 'Mercury Freight'], extraction_schema: schema };
    const headers = { 'Idempotency-Key': 'order-4711' };
    const first = await runtime.api.submitBatch(body, headers);
    expect(first.statusCode).toBe(202);
    await runtime.waitForJob(first.body.job_id);
    const again = await runtime.api.submitBatch(body, headers);
    expect(again.statusCode).toBe(202);
    expect(again.body.job_id).toBe(first.body.job_id);
    expect(again.body.status).toBe('COMPLETED');
    const job = (await runtime.api.getJob(first.body.job_id)).body;
    expect(job.progress).toEqual({ total: 2, completed: 2, failed: 0 });

    const different = await runtime.api.submitBatch({ ...body, companies: ['Mercury Freight'] }, headers);
    expect(different.statusCode).toBe(409);
    // The conflicting request left the first job's manifest alone.
    const stored = await new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!).get(first.body.job_id);
    const manifest = await runtime.results.getManifest(stored!.manifest_key);
    expect(manifest.map((item) => item.company_name)).toEqual(body.companies);
  });

  it('rejects bad requests with a 400 that names the problem, and writes nothing', async () => {
    const before = await runtime.results.listKeys('jobs/');
    const cases: [unknown, RegExp][] = [
      ['not json', /JSON/],
      [{ extraction_schema: schema }, /companies/],
      [{ companies: [], extraction_schema: schema }, /at least one company/],
      [{ companies: ['  '], extraction_schema: schema }, /companies\.0/],
      [{ companies: ['Acme'], extraction_schema: { type: 'object', properties: {} } }, /at least one field/],
      [{ companies: ['Acme'], extraction_schema: { type: 'object', properties: { a: { type: 'nonsense' } } } }, /not a valid JSON Schema/],
      [{ companies: ['Acme'], extraction_schema: schema, max_iterations: 9 }, /max_iterations/],
    ];
    for (const [body, message] of cases) {
      const response = await runtime.api.submitBatch(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.body.message).toMatch(message);
    }
    expect(await runtime.results.listKeys('jobs/')).toEqual(before);
  });

  it('answers 404 for an unknown job and 400 for a malformed id', async () => {
    expect((await runtime.api.getJob('00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await runtime.api.getJob('../etc/passwd')).statusCode).toBe(400);
  });
});

describe('the search cache', () => {
  it('answers a company researched before without new searches or search cost', async () => {
    const before = runtime.standInRequests()!;
    const submitted = await runtime.api.submitBatch({ companies: ['Brightgull Robotics'], extraction_schema: schema });
    await runtime.waitForJob(submitted.body.job_id);
    const [again] = (await runtime.results.getText(jobKeys.jsonl(submitted.body.job_id)))!.trim().split('\n').map((l) => JSON.parse(l));
    const first = byName('Brightgull Robotics');
    expect(runtime.standInRequests()!.tavily).toBe(before.tavily);
    expect(runtime.standInRequests()!.gemini).toBe(before.gemini);
    expect(again.data).toEqual(first.data);
    expect(again.cost.search_queries).toBe(first.cost.search_queries);
    expect(again.cost.usd).toBeLessThan(first.cost.usd);
  });
});

describe('a batch that cannot run', () => {
  it('marks the job failed with the reason when the manifest cannot be read', async () => {
    const jobId = '22222222-2222-4222-8222-222222222222';
    const store = new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!);
    // Started by hand, but recorded for the in-process API's caller so that GET /jobs shows it to that caller.
    await store.create({ job_id: jobId, total: 1, request_hash: 'h', manifest_key: 'm', submitted_by: LOCAL_CALLER }, new Date());
    const manifest = { bucket: runtime.bucket, key: `jobs/${jobId}/never-written.json` };
    const input = executionInput(jobId, manifest, batchRequestSchema.parse({ companies: ['Acme'], extraction_schema: schema }));
    await sfnClient().send(
      new StartExecutionCommand({
        stateMachineArn: process.env.STATE_MACHINE_ARN,
        name: jobId,
        input: JSON.stringify(input),
      }),
    );
    const execution = await runtime.waitForJob(jobId);
    expect(execution.status).toBe('FAILED');
    const job = (await runtime.api.getJob(jobId)).body;
    expect(job.status).toBe('FAILED');
    expect(job.error).toMatch(/States.ItemReaderFailed.*never-written/);
  });
});

describe('a batch with a spending cap', () => {
  it('starts no company once its spend reaches max_cost_usd: the rest end failed with the reason, every company counted', async () => {
    // More companies than the Map runs at once (100): the later ones start after earlier ones have spent.
    const names = loadCorpusNames();
    const capped = Array.from({ length: 130 }, (_, i) => names[i % names.length]!);
    const submitted = await runtime.api.submitBatch({ companies: capped, extraction_schema: schema, max_iterations: 1, max_cost_usd: 0.1 });
    expect(submitted.statusCode).toBe(202);
    const jobId = submitted.body.job_id as string;
    expect((await runtime.waitForJob(jobId)).status).toBe('SUCCEEDED');

    const job = (await runtime.api.getJob(jobId)).body;
    expect(job.status).toBe('COMPLETED');
    expect(job.progress.completed + job.progress.failed).toBe(130);
    const lines = (await runtime.results.getText(jobKeys.jsonl(jobId)))!.trim().split('\n').map((l) => JSON.parse(l) as CompanyResult);
    expect(lines.map((r) => r.index)).toEqual(capped.map((_, i) => i));
    const refused = lines.filter((r) => r.failure_reason?.startsWith('BudgetExhausted: budget_exhausted'));
    expect(refused.length).toBeGreaterThan(0);
    // Refused before its first search: no provider was paid (Lambda and Step Functions are estimated per round).
    for (const r of refused) expect(r).toMatchObject({ status: 'failed', cost: { search_usd: 0, llm_usd: 0, search_queries: 0 } });
    // The cap is overshot by at most what the companies running when it was reached spend: never more than 100 of them.
    const perCompany = Math.max(...lines.map((r) => r.cost.usd));
    expect(job.cost_usd).toBeGreaterThanOrEqual(0.1);
    expect(job.cost_usd).toBeLessThan(0.1 + 100 * perCompany);
    expect(await runtime.api.submitBatch({ companies: ['Acme'], extraction_schema: schema, max_cost_usd: 0 })).toMatchObject({ statusCode: 400 });
  });
});

describe('the job counters', () => {
  it('count a company reported twice only once', async () => {
    const store = new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!);
    const jobId = '11111111-1111-4111-8111-111111111111';
    await store.create({ job_id: jobId, total: 2, request_hash: 'h', manifest_key: 'm' }, new Date());
    expect(await store.countOutcome(jobId, 0, 'completed', new Date())).toBe(true);
    expect(await store.countOutcome(jobId, 0, 'completed', new Date())).toBe(false);
    expect(await store.countOutcome(jobId, 0, 'failed', new Date())).toBe(false);
    expect(await store.countOutcome(jobId, 1, 'failed', new Date())).toBe(true);
    expect(await store.get(jobId)).toMatchObject({ completed: 1, failed: 1 });
  });
});
