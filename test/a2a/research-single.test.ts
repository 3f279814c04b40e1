/**
 * POST /research/single over real HTTP on the local services: one company on the EXPRESS company machine, answered
 * with its result (200), or with its job (202) when the run outlasts the wait; the run then closes its own job.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyResultSchema, type ExtractionSchema } from '../../lambdas/core/contracts';
import { jobKeys } from '../../lambdas/core/job-layout';
import { recordProblems } from '../../lambdas/core/json-schema';
import { toCsv, toJsonl } from '../../lambdas/core/results-files';
import { SCOPES } from '../../lambdas/core/scopes';
import type { JobRecord } from '../../lambdas/store/job-store';
import { startLocalServices, type LocalServices } from '../../local/local-services';
import type { LocalExecution } from '../../local/step-functions-server';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
const brightgull = { company_name: 'Brightgull Robotics', extraction_schema: schema, max_iterations: 1 };
// Each model call of a run takes this long, so a run outlasts the short wait the 202 test sets.
const LLM_LATENCY_MS = 300;

let services: LocalServices;
let alice: string;
let shared: typeof import('../../lambdas/shared/stores') & typeof import('../../lambdas/shared/research-jobs');
/** Company-machine executions that have ended, by name (the job id), and who waits for which. */
const ended = new Map<string, LocalExecution>();
const waiting = new Map<string, (execution: LocalExecution) => void>();
const endOf = (jobId: string) =>
  ended.has(jobId) ? Promise.resolve(ended.get(jobId)!) : new Promise<LocalExecution>((resolve) => waiting.set(jobId, resolve));

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0, standInLatencyMs: { anthropic: LLM_LATENCY_MS } });
  alice = await services.issuer.mintToken({ subject: 'client-alice' });
  // Called once the execution's last state (storage) has returned, before anything awaiting the execution resumes.
  services.runtime.onExecutionEnd((execution) => {
    if (execution.stateMachineArn !== services.runtime.companyMachineArn) return;
    ended.set(execution.name, execution);
    waiting.get(execution.name)?.(execution);
  });
  // Imported once the runtime has set the environment the handlers read.
  shared = { ...(await import('../../lambdas/shared/stores')), ...(await import('../../lambdas/shared/research-jobs')) };
}, 120_000);

afterAll(async () => {
  delete process.env.SINGLE_RESEARCH_DEADLINE_MS;
  await services?.stop();
});

const research = (bearer: string | undefined, body: unknown) =>
  fetch(`${services.restUrl}/research/single`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const getJob = async (jobId: string) => {
  const response = await fetch(`${services.restUrl}/jobs/${jobId}`, { headers: { authorization: `Bearer ${alice}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as any;
};

/** The job's files hold exactly its one stored result. */
async function expectResultsFiles(jobId: string) {
  const stored = companyResultSchema.parse(await services.runtime.results.getCompanyResult(jobId, 0));
  expect(await services.runtime.results.getText(jobKeys.jsonl(jobId))).toBe(toJsonl([stored]));
  expect(await services.runtime.results.getText(jobKeys.csv(jobId))).toBe(toCsv([stored], schema));
  return stored;
}

describe('POST /research/single', () => {
  it("answers 200 with the company's complete, schema-valid result, from a job that closed with its results files", async () => {
    const response = await research(alice, brightgull);
    expect(response.status).toBe(200);
    const result = companyResultSchema.parse(await response.json());
    expect(result).toMatchObject({ index: 0, company_name: 'Brightgull Robotics', status: 'completed', complete: true, data: { ceo: 'Mette Langgaard' } });
    expect(recordProblems(schema, result.data, { partial: false })).toEqual([]);

    const jobId = response.headers.get('dossier-job-id')!;
    expect((await endOf(jobId)).status).toBe('SUCCEEDED');
    expect(await getJob(jobId)).toMatchObject({
      job_id: jobId,
      status: 'COMPLETED',
      progress: { total: 1, completed: 1, failed: 0 },
      results: { jsonl: `s3://${services.runtime.bucket}/${jobKeys.jsonl(jobId)}`, csv: `s3://${services.runtime.bucket}/${jobKeys.csv(jobId)}` },
    });
    // The answer is the line of results.jsonl.
    expect(await expectResultsFiles(jobId)).toEqual(result);
  });

  it('refuses a bad body with a 400 that names the field, and starts nothing', async () => {
    const before = await services.runtime.results.listKeys('jobs/');
    const cases: [unknown, string, RegExp][] = [
      [{ ...brightgull, max_iteration: 2 }, 'invalid_request', /unknown key "max_iteration"; the known keys are .*max_iterations/],
      [{ extraction_schema: schema }, 'invalid_request', /^company_name: /],
      [{ ...brightgull, max_iterations: 9 }, 'invalid_request', /^max_iterations: /],
      [{ ...brightgull, company_name: '  ' }, 'invalid_request', /company name must not be empty/],
      [{ ...brightgull, extraction_schema: { type: 'object', properties: { x: { type: 'strnig' } } } }, 'invalid_schema', /./],
      ['not json', 'invalid_json', /JSON object/],
    ];
    for (const [body, error, message] of cases) {
      const response = await research(alice, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const answer = (await response.json()) as { error: string; message: string };
      expect(answer.error, JSON.stringify(body)).toBe(error);
      expect(answer.message, JSON.stringify(body)).toMatch(message);
    }
    expect(await services.runtime.results.listKeys('jobs/')).toEqual(before);
  });

  it('refuses a request without a token with 401, and a read-only token with 403', async () => {
    const anonymous = await research(undefined, brightgull);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer realm="dossier"/);
    const reader = await services.issuer.mintToken({ subject: 'client-alice', scopes: [SCOPES.read] });
    const refused = await research(reader, brightgull);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(await refused.json()).toEqual({ error: 'forbidden', message: "the token's scopes do not open this route" });
  });

  it('answers 202 with the job when the run outlasts the wait; the run goes on and closes its job, counted once', async () => {
    // Shorter than one model call: the wait ends while the run is still researching.
    process.env.SINGLE_RESEARCH_DEADLINE_MS = String(LLM_LATENCY_MS / 3);
    let response: Response;
    try {
      response = await research(alice, brightgull);
    } finally {
      delete process.env.SINGLE_RESEARCH_DEADLINE_MS;
    }
    expect(response.status).toBe(202);
    const answer = (await response.json()) as { job_id: string };
    expect(answer).toEqual({ job_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'RUNNING', status_url: `/jobs/${answer.job_id}` });
    expect(response.headers.get('location')).toBe(`/jobs/${answer.job_id}`);
    // Answered while the execution still runs: nobody waits for it any more.
    expect(ended.has(answer.job_id)).toBe(false);
    expect(await getJob(answer.job_id)).toMatchObject({ status: 'RUNNING', progress: { total: 1, completed: 0, failed: 0 } });

    const execution = await endOf(answer.job_id);
    expect(execution.status).toBe('SUCCEEDED');
    const job = await getJob(answer.job_id);
    expect(job).toMatchObject({ status: 'COMPLETED', progress: { total: 1, completed: 1, failed: 0 }, results: { jsonl: expect.any(String), csv: expect.any(String) } });
    expect(await expectResultsFiles(answer.job_id)).toMatchObject({ company_name: 'Brightgull Robotics', status: 'completed', complete: true });
  });
});

describe('a job of one company closes itself in its storage step', () => {
  // A company's run, done once: its job and stored result, for the storage step to be called with again.
  let done: { jobId: string; stored: any };
  beforeAll(async () => {
    const jobId = (await research(alice, brightgull)).headers.get('dossier-job-id')!;
    done = { jobId, stored: await services.runtime.results.getCompanyResult(jobId, 0) };
  });

  /** What the chain's StoreResult state sends for this result (the same input makes the same stored result). */
  const storeInput = (jobId: string, stored: any) => ({
    job_id: jobId,
    index: 0,
    company_name: stored.company_name,
    iterations: stored.iterations,
    extraction_schema: schema,
    outcome: 'completed',
    usage: {
      search_queries: stored.cost.search_queries,
      search_credits: stored.cost.search_credits,
      llm: stored.cost.llm,
      lambda_gb_seconds: stored.cost.lambda_gb_seconds,
    },
    record: {
      extracted_data: stored.data,
      field_sources: stored.sources,
      confidence_score: stored.confidence_score,
      evidence: stored.evidence,
      field_confidence: stored.field_confidence,
      unverified_fields: stored.unverified_fields,
    },
    reflection: {
      is_complete: stored.complete,
      completeness_score: stored.completeness_score,
      missing_fields: stored.missing_fields,
      follow_up_queries: [],
      quality_issues: stored.quality_issues,
      unverified_fields: stored.unverified_fields,
      contested_fields: stored.contested_fields,
      confidence_score: stored.confidence_score,
      field_confidence: stored.field_confidence,
    },
  });
  const storeResult = async (input: unknown) => {
    const { handler } = await import('../../lambdas/handlers/store-result');
    const { lambdaContext } = await import('../../local/task-handlers');
    return handler(input, lambdaContext('Storage', 'arn:aws:lambda:us-east-1:000000000000:function:Storage', 30_000) as any);
  };

  it('a retried storage step changes nothing on a closed job', async () => {
    const before = await shared.jobStore().get(done.jobId);
    expect(before).toMatchObject({ status: 'COMPLETED', completed: 1, failed: 0 });
    expect(await storeResult(storeInput(done.jobId, done.stored))).toEqual({ index: 0, status: 'completed', counted: false });
    expect(await shared.jobStore().get(done.jobId)).toEqual(before);
    expect(await services.runtime.results.getCompanyResult(done.jobId, 0)).toEqual(done.stored);
    await expectResultsFiles(done.jobId);
  });

  it('a retry closes a job an earlier attempt counted but did not close', async () => {
    const jobId = crypto.randomUUID();
    const jobs = shared.jobStore();
    await jobs.create({ job_id: jobId, total: 1, request_hash: 'h', manifest_key: `jobs/${jobId}/manifest.json`, submitted_by: 'client-alice', kind: 'single' }, new Date());
    await jobs.markRunning(jobId, services.runtime.companyMachineArn, new Date());
    // The first attempt stored and counted the company, then died before closing the job.
    await services.runtime.results.putJson(jobKeys.result(jobId, 0), done.stored);
    await jobs.countOutcome(jobId, 0, 'completed', new Date());
    expect(await getJob(jobId)).toMatchObject({ status: 'RUNNING', progress: { completed: 1 } });

    expect(await storeResult(storeInput(jobId, done.stored))).toEqual({ index: 0, status: 'completed', counted: false });
    expect(await getJob(jobId)).toMatchObject({ status: 'COMPLETED', progress: { total: 1, completed: 1, failed: 0 } });
    await expectResultsFiles(jobId);
  });

  it('leaves a batch job to its assembly step', async () => {
    const jobId = crypto.randomUUID();
    const jobs = shared.jobStore();
    await jobs.create({ job_id: jobId, total: 1, request_hash: 'h', manifest_key: 'm', kind: 'batch' }, new Date());
    expect(await storeResult(storeInput(jobId, done.stored))).toEqual({ index: 0, status: 'completed', counted: true });
    expect(await jobs.get(jobId)).toMatchObject({ status: 'SUBMITTED', completed: 1 });
    expect(await services.runtime.results.getText(jobKeys.jsonl(jobId))).toBeUndefined();
  });
});

describe('GET /jobs/{id} of a job of one company that never recorded an outcome', () => {
  const job = (kind: JobRecord['kind'], minutesAgo: number): JobRecord => {
    const created = new Date(Date.parse('2026-11-28T12:00:00Z') - minutesAgo * 60_000).toISOString();
    return { job_id: 'j', kind, status: 'RUNNING', total: 1, completed: 0, failed: 0, cost_usd: 0, created_at: created, updated_at: created, request_hash: 'h', manifest_key: 'm' };
  };
  const now = new Date('2026-11-28T12:00:00Z');

  it('reports it FAILED, the company counted failed, once the company machine cannot still be running it', () => {
    expect(shared.jobView(job('single', 7), 'b', now)).toMatchObject({
      status: 'FAILED',
      progress: { total: 1, completed: 0, failed: 1 },
      error: expect.stringMatching(/without recording an outcome.*5-minute limit/),
    });
  });

  it('reports it RUNNING while the run may still be going, and never second-guesses a batch', () => {
    expect(shared.jobView(job('single', 5), 'b', now)).toMatchObject({ status: 'RUNNING', progress: { failed: 0 } });
    expect(shared.jobView(job('batch', 60), 'b', now)).toMatchObject({ status: 'RUNNING' });
    expect(shared.jobView(job(undefined, 60), 'b', now)).toMatchObject({ status: 'RUNNING' });
  });
});
