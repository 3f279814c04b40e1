/**
 * Job control through the REST API, as a client sees it over HTTP: its own jobs listed newest first, a page at a
 * time; links that download the results files; canceling a running batch. Another client's job is 404 everywhere.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobViewSchema } from '../../lambdas/core/contracts';
import { SCOPES } from '../../lambdas/core/scopes';
import { startLocalServices, type LocalServices } from '../../local/local-services';
import { restClient } from '../support/rest-client';

let services: LocalServices;

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
}, 120_000);

afterAll(async () => {
  await services?.stop();
});

const { tokenFor, call, submit } = restClient(() => services);

describe('GET /jobs', () => {
  it("lists only the caller's jobs, newest first, across pages, with no job twice", async () => {
    const lister = await tokenFor('client-lister');
    const other = await tokenFor('client-lister-neighbour');
    const mine: string[] = [];
    for (const name of ['Brightgull Robotics', 'Mercury Freight', 'Amberfold Textiles']) mine.push(await submit(lister, [name]));
    const theirs = await submit(other, ['Brightgull Robotics']);
    await Promise.all([...mine, theirs].map((id) => services.runtime.waitForJob(id)));

    const first = await call(lister, 'GET', '/jobs?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.jobs).toHaveLength(2);
    expect(first.body.next_token).toEqual(expect.any(String));
    const second = await call(lister, 'GET', `/jobs?limit=2&next_token=${encodeURIComponent(first.body.next_token)}`);
    expect(second.status).toBe(200);
    expect(second.body.next_token).toBeUndefined();

    const listed = [...first.body.jobs, ...second.body.jobs];
    expect(listed.map((job) => job.job_id)).toEqual([...mine].reverse());
    for (const job of listed) expect(jobViewSchema.strict().parse(job)).toMatchObject({ status: 'COMPLETED', progress: { total: 1, completed: 1, failed: 0 } });
    const created = listed.map((job) => job.created_at);
    expect(created).toEqual([...created].sort().reverse());

    // One page by default; a read-only token of the same client reads the same list.
    const reader = await tokenFor('client-lister', [SCOPES.read]);
    const all = await call(reader, 'GET', '/jobs');
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ jobs: listed });
    // A page that holds the last job says there is no next one.
    expect((await call(lister, 'GET', '/jobs?limit=3')).body).toEqual({ jobs: listed });
    expect((await call(other, 'GET', '/jobs')).body.jobs.map((job: any) => job.job_id)).toEqual([theirs]);
    expect(await call(await tokenFor('client-with-no-jobs'), 'GET', '/jobs')).toEqual({ status: 200, body: { jobs: [] } });
  });

  it('refuses a bad limit, an unknown parameter or a next_token it did not give out, with 400', async () => {
    const bearer = await tokenFor('client-bad-queries');
    for (const limit of ['0', '101', 'ten', '2.5', '']) {
      expect(await call(bearer, 'GET', `/jobs?limit=${limit}`), `limit=${limit}`).toEqual({
        status: 400,
        body: { error: 'invalid_query', message: 'limit must be a whole number from 1 to 100' },
      });
    }
    const unknown = await call(bearer, 'GET', '/jobs?page=2');
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_query' } });
    expect(unknown.body.message).toContain('"page"');

    const forged = Buffer.from('2026-01-01T00:00:00.000Z|not a job id').toString('base64url');
    for (const token of ['garbage!', 'bm90IGEgdG9rZW4', forged]) {
      expect(await call(bearer, 'GET', `/jobs?next_token=${encodeURIComponent(token)}`), token).toEqual({
        status: 400,
        body: { error: 'invalid_next_token', message: 'next_token must be the next_token of an earlier GET /jobs answer, unchanged' },
      });
    }
  });
});

describe('GET /jobs/{job_id}/results', () => {
  it('answers links that a plain fetch downloads, byte for byte what the job stored', async () => {
    const bearer = await tokenFor('client-downloader');
    const id = await submit(bearer, ['Brightgull Robotics', 'Mercury Freight']);
    await services.runtime.waitForJob(id);

    const { status, body } = await call(bearer, 'GET', `/jobs/${id}/results`);
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['expires_at', 'job_id', 'results']);
    expect(body.job_id).toBe(id);
    for (const [format, key] of [['jsonl', `jobs/${id}/results.jsonl`], ['csv', `jobs/${id}/results.csv`]] as const) {
      const url = new URL(body.results[format]);
      expect(url.pathname).toBe(`/${services.runtime.bucket}/${key}`);
      // Signed for 15 minutes from the moment of signing, which is what expires_at says.
      expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
      const signedAt = url.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6.000Z');
      expect(Date.parse(body.expires_at) - Date.parse(signedAt)).toBe(15 * 60 * 1000);

      const download = await fetch(url);
      expect(download.status, format).toBe(200);
      const bytes = Buffer.from(await download.arrayBuffer());
      const stored = await services.runtime.results.getText(key);
      expect(stored, `${key} is stored`).toBeDefined();
      expect(bytes.equals(Buffer.from(stored!, 'utf8')), `${format} bytes`).toBe(true);
    }
    expect((await fetch(body.results.jsonl).then((r) => r.text())).trim().split('\n')).toHaveLength(2);
  });

  it('answers 409 results_not_ready, naming the status, until the job has its results', async () => {
    const bearer = await tokenFor('client-impatient');
    const id = await submit(bearer, Array.from({ length: 20 }, (_, i) => `Impatient ${i} Ventures`));
    const early = await call(bearer, 'GET', `/jobs/${id}/results`);
    expect(early.status).toBe(409);
    expect(early.body.error).toBe('results_not_ready');
    expect(early.body.message).toMatch(new RegExp(`^job ${id} is (SUBMITTED|RUNNING): its results files are written when it completes$`));
    await services.runtime.waitForJob(id);
    expect((await call(bearer, 'GET', `/jobs/${id}/results`)).status).toBe(200);
  });
});

describe('POST /jobs/{job_id}/cancel', () => {
  it('stops a running batch: 202, the execution ends ABORTED, the job CANCELLED with counters that match its stored results', async () => {
    const bearer = await tokenFor('client-canceller');
    const companies = Array.from({ length: 100 }, (_, i) => `Cancel ${i} Works`);
    const id = await submit(bearer, companies);

    const canceled = await call(bearer, 'POST', `/jobs/${id}/cancel`);
    expect(canceled.status).toBe(202);
    expect(jobViewSchema.strict().parse(canceled.body)).toMatchObject({ job_id: id, status: 'CANCELLED', progress: { total: 100 } });

    const execution = await services.runtime.waitForJob(id);
    expect(execution.status).toBe('ABORTED');
    const { body: job } = await call(bearer, 'GET', `/jobs/${id}`);
    expect(job).toMatchObject({ job_id: id, status: 'CANCELLED', error: `canceled by its client (POST /jobs/${id}/cancel)` });
    expect(job.results).toBeUndefined();
    // Stopped before the end, and every company counted is one stored result, each counted once.
    const { completed, failed, total } = job.progress;
    expect(completed + failed).toBeLessThan(total);
    const stored = new Set(await services.runtime.results.listKeys(`jobs/${id}/results/`));
    expect(completed + failed).toBe(stored.size);

    expect(await call(bearer, 'POST', `/jobs/${id}/cancel`)).toEqual({
      status: 409,
      body: { error: 'job_ended', message: `job ${id} already ended CANCELLED` },
    });
    expect(await call(bearer, 'GET', `/jobs/${id}/results`)).toEqual({
      status: 409,
      body: { error: 'results_not_ready', message: `job ${id} is CANCELLED: it ended without results files` },
    });
  });

  it('answers 409 job_ended for a job that already completed, and leaves it as it was', async () => {
    const bearer = await tokenFor('client-too-late');
    const id = await submit(bearer, ['Brightgull Robotics']);
    await services.runtime.waitForJob(id);
    expect(await call(bearer, 'POST', `/jobs/${id}/cancel`)).toEqual({
      status: 409,
      body: { error: 'job_ended', message: `job ${id} already ended COMPLETED` },
    });
    expect((await call(bearer, 'GET', `/jobs/${id}`)).body).toMatchObject({ status: 'COMPLETED', progress: { completed: 1 } });
  });

  it('needs the research scope: a read-only token is refused', async () => {
    const id = await submit(await tokenFor('client-read-only'), ['Brightgull Robotics']);
    const reader = await tokenFor('client-read-only', [SCOPES.read]);
    expect((await call(reader, 'POST', `/jobs/${id}/cancel`)).status).toBe(403);
    expect((await services.runtime.waitForJob(id)).status).toBe('SUCCEEDED');
  });
});

describe("another client's job", () => {
  it('is 404 on all three routes, exactly as a job that does not exist, and is left running', async () => {
    const owner = await tokenFor('client-owner');
    const stranger = await tokenFor('client-stranger');
    const id = await submit(owner, Array.from({ length: 10 }, (_, i) => `Private ${i} Holdings`));
    const unknown = randomUUID();

    for (const jobId of [id, unknown]) {
      const notFound = { status: 404, body: { error: 'job_not_found', message: `no job ${jobId}` } };
      expect(await call(stranger, 'POST', `/jobs/${jobId}/cancel`), `cancel ${jobId}`).toEqual(notFound);
      expect(await call(stranger, 'GET', `/jobs/${jobId}/results`), `results ${jobId}`).toEqual(notFound);
    }
    expect((await call(stranger, 'GET', '/jobs')).body.jobs).toEqual([]);
    expect(await call(stranger, 'GET', '/jobs/not-a-job/results')).toEqual({
      status: 400,
      body: { error: 'invalid_job_id', message: 'job_id must be the UUID a research request answered with' },
    });

    // The stranger's cancel changed nothing: the job runs to its end, and only its owner sees it.
    expect((await services.runtime.waitForJob(id)).status).toBe('SUCCEEDED');
    expect((await call(owner, 'GET', `/jobs/${id}/results`)).status).toBe(200);
    expect((await call(owner, 'GET', '/jobs')).body.jobs.map((job: any) => job.job_id)).toEqual([id]);
  });
});
