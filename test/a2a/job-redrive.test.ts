/**
 * POST /jobs/{job_id}/redrive over HTTP on the local services: an ended batch's failed (and never counted) companies
 * run again under the same job, and only those; the counters in DynamoDB and the results files in S3 end true, with
 * every company once. A company whose first model call is refused (HTTP 400, not retried) fails the first run and
 * completes on the redrive, as after a provider fix.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companyResultSchema, jobViewSchema } from '../../lambdas/core/contracts';
import { jobKeys, redriveExecutionName } from '../../lambdas/core/job-layout';
import { SCOPES } from '../../lambdas/core/scopes';
import { documentClient } from '../../lambdas/shared/aws-clients';
import { DynamoJobStore } from '../../lambdas/store/job-store';
import { startLocalServices, type LocalServices } from '../../local/local-services';
import { restClient } from '../support/rest-client';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));
const FLAKY = 'Deepcairn Geothermal';
let services: LocalServices;

beforeAll(async () => {
  services = await startLocalServices({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
    // The flaky company's first model request is refused once; after that the provider answers it.
    faults: { anthropic: [{ match: FLAKY, status: 400, times: 1 }] },
  });
}, 120_000);

afterAll(async () => {
  await services?.stop();
});

const { tokenFor, call, submit } = restClient(() => services);
async function resultsFile(jobId: string) {
  const text = (await services.runtime.results.getText(jobKeys.jsonl(jobId)))!;
  return text.trim().split('\n').map((line) => companyResultSchema.parse(JSON.parse(line)));
}
const store = () => new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!);

describe('POST /jobs/{job_id}/redrive', () => {
  it('runs only the failed company again; the job ends COMPLETED with its counters and files corrected, nothing counted twice', async () => {
    const bearer = await tokenFor('client-redriver');
    const id = await submit(bearer, ['Saltreed Energy Storage', FLAKY]);
    expect((await services.runtime.waitForJob(id)).status).toBe('SUCCEEDED');
    const first = await call(bearer, 'GET', `/jobs/${id}`);
    expect(first.body).toMatchObject({ status: 'COMPLETED', progress: { total: 2, completed: 1, failed: 1 } });
    expect((await resultsFile(id)).map((r) => [r.company_name, r.status])).toEqual([
      ['Saltreed Energy Storage', 'completed'],
      [FLAKY, 'failed'],
    ]);

    const llmCallsBefore = services.runtime.standInRequests()!.anthropic;
    const redriven = await call(bearer, 'POST', `/jobs/${id}/redrive`);
    expect(redriven.status).toBe(202);
    const { redriven_companies, ...view } = redriven.body;
    expect(redriven_companies).toBe(1);
    // Reopened: the failure still counted until the company completes, so the counters never add up to more than total.
    expect(jobViewSchema.strict().parse(view)).toMatchObject({ job_id: id, status: 'SUBMITTED', progress: { total: 2, completed: 1, failed: 1 } });
    // One redrive at a time.
    expect(await call(bearer, 'POST', `/jobs/${id}/redrive`)).toEqual({
      status: 409,
      body: { error: 'job_running', message: expect.stringMatching(new RegExp(`^job ${id} is (SUBMITTED|RUNNING)`)) },
    });

    const execution = await services.runtime.waitForJob(id);
    expect(execution.name).toBe(redriveExecutionName(id, 1));
    expect(execution.status).toBe('SUCCEEDED');
    const llmCallsOfRedrive = services.runtime.standInRequests()!.anthropic - llmCallsBefore;

    const after = await call(bearer, 'GET', `/jobs/${id}`);
    expect(after.body).toMatchObject({ status: 'COMPLETED', progress: { total: 2, completed: 2, failed: 0 } });
    expect(after.body.error).toBeUndefined();
    const outcomes = await store().countedOutcomes(id, 2);
    expect(outcomes).toEqual(new Map([[0, 'completed'], [1, 'completed']]));
    const files = await resultsFile(id);
    expect(files.map((r) => [r.index, r.company_name, r.status])).toEqual([
      [0, 'Saltreed Energy Storage', 'completed'],
      [1, FLAKY, 'completed'],
    ]);
    expect(after.body.redrives).toBe(1);

    // Only the flaky company ran: the redrive made exactly the model calls one run of it alone makes.
    const alone = services.runtime.standInRequests()!.anthropic;
    expect((await services.runtime.waitForJob(await submit(bearer, [FLAKY]))).status).toBe('SUCCEEDED');
    expect(llmCallsOfRedrive).toBe(services.runtime.standInRequests()!.anthropic - alone);

    expect(await call(bearer, 'POST', `/jobs/${id}/redrive`)).toEqual({
      status: 409,
      body: { error: 'nothing_to_redrive', message: `every company of job ${id} completed` },
    });
  });

  it('finishes a canceled batch: the companies never counted run, each company ends counted once, in the files once', async () => {
    const bearer = await tokenFor('client-cancel-then-redrive');
    const companies = Array.from({ length: 60 }, (_, i) => `Resume ${i} Partners`);
    const id = await submit(bearer, companies);
    expect((await call(bearer, 'POST', `/jobs/${id}/cancel`)).status).toBe(202);
    expect((await services.runtime.waitForJob(id)).status).toBe('ABORTED');
    const canceled = (await call(bearer, 'GET', `/jobs/${id}`)).body;
    const countedBefore = canceled.progress.completed + canceled.progress.failed;
    expect(countedBefore).toBeLessThan(60);

    const redriven = await call(bearer, 'POST', `/jobs/${id}/redrive`);
    expect(redriven.status).toBe(202);
    expect(redriven.body.redriven_companies).toBe(60 - canceled.progress.completed);
    expect((await services.runtime.waitForJob(id)).status).toBe('SUCCEEDED');

    const done = (await call(bearer, 'GET', `/jobs/${id}`)).body;
    expect(done.status).toBe('COMPLETED');
    expect(done.progress.completed + done.progress.failed).toBe(60);
    const files = await resultsFile(id);
    expect(files.map((r) => r.index)).toEqual(companies.map((_, i) => i));
    expect(files.filter((r) => r.status === 'completed')).toHaveLength(done.progress.completed);
    expect((await store().countedOutcomes(id, 60)).size).toBe(60);
  });

  it('refuses what cannot be redriven: a running job, another client’s job, a read-only token, a job of one company', async () => {
    const bearer = await tokenFor('client-redrive-refusals');
    const running = await submit(bearer, Array.from({ length: 30 }, (_, i) => `Busy ${i} Labs`));
    const early = await call(bearer, 'POST', `/jobs/${running}/redrive`);
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('job_running');

    const stranger = await tokenFor('client-redrive-stranger');
    for (const jobId of [running, randomUUID()]) {
      expect(await call(stranger, 'POST', `/jobs/${jobId}/redrive`)).toEqual({ status: 404, body: { error: 'job_not_found', message: `no job ${jobId}` } });
    }
    expect((await call(await tokenFor('client-redrive-refusals', [SCOPES.read]), 'POST', `/jobs/${running}/redrive`)).status).toBe(403);
    await services.runtime.waitForJob(running);

    const single = await fetch(`${services.restUrl}/research/single`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ company_name: 'Saltreed Energy Storage', extraction_schema: schema, max_iterations: 1 }),
    });
    expect(single.status).toBe(200);
    const singleId = single.headers.get('dossier-job-id')!;
    expect(await call(bearer, 'POST', `/jobs/${singleId}/redrive`)).toEqual({
      status: 409,
      body: { error: 'job_not_redrivable', message: `job ${singleId} researched one company: ask POST /research/single again` },
    });
  });
});
