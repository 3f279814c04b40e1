/**
 * Per-client quotas through the REST API as the template declares it: requests per minute on every route, and a
 * daily budget of research units reserved when research is submitted. Small limits keep it quick.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { minuteWindow, utcDay } from '../../lambdas/core/quotas';
import { startLocalServices, type LocalServices } from '../../local/local-services';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));
const RATE_LIMIT = 10;
const DAILY_UNITS = 20;
let services: LocalServices;
const saved = { RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE, DAILY_RESEARCH_UNITS: process.env.DAILY_RESEARCH_UNITS };

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
  // After the services start: they merge the template's environment (the deployed defaults) into process.env, and
  // the handlers read the limits on every request.
  Object.assign(process.env, { RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT), DAILY_RESEARCH_UNITS: String(DAILY_UNITS) });
}, 120_000);

afterAll(async () => {
  await services?.stop();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const token = (subject: string) => services.issuer.mintToken({ subject });
const call = (bearer: string, path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  fetch(`${services.restUrl}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${bearer}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
// One iteration of two queries: 2 research units a company.
const batchOf = (count: number) => ({
  companies: Array.from({ length: count }, (_, i) => ['Brightgull Robotics', 'Mercury Freight'][i % 2]!),
  extraction_schema: schema,
  max_iterations: 1,
  max_queries: 2,
});

describe('the rate limit', () => {
  it('answers the request after the limit-th in a minute with 429 and Retry-After, across routes, for that client only', async () => {
    const bob = await token('client-bob');
    // Fixed windows: a sequence that straddled a minute's end proves nothing, so it runs again in the new minute.
    for (let attempt = 1; ; attempt++) {
      const alice = await token(`client-alice-${attempt}`);
      const window = minuteWindow(new Date());
      const routes = ['/jobs', '/webhooks/secret', '/jobs?limit=1'];
      const answers = [];
      for (let i = 0; i < RATE_LIMIT; i++) answers.push((await call(alice, routes[i % routes.length]!)).status);
      const refused = await call(alice, '/jobs/0b6c2c1e-0000-4000-8000-000000000000');
      if (minuteWindow(new Date()).id !== window.id && attempt < 2) continue;

      expect(answers).toEqual(new Array(RATE_LIMIT).fill(200));
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(await refused.json()).toEqual({ error: 'rate_limited', message: `more than ${RATE_LIMIT} requests in a minute; retry in ${retryAfter} s` });
      // Refused before the handler: a POST is refused just the same, and another client goes on.
      expect((await call(alice, '/research/batch', { method: 'POST', body: batchOf(1) })).status).toBe(429);
      expect((await call(bob, '/jobs')).status).toBe(200);
      return;
    }
  });
});

describe('the daily research units', () => {
  it('reserve a batch once, idempotent replays included, and refuse one that does not fit without creating a job', async () => {
    const carol = await token('client-carol');
    const key = { 'Idempotency-Key': 'carol-nightly' };
    const first = await call(carol, '/research/batch', { method: 'POST', body: batchOf(4), headers: key });
    expect(first.status).toBe(202);
    const { job_id } = (await first.json()) as { job_id: string };
    // The same request again is the same job, and costs nothing more.
    const replay = await call(carol, '/research/batch', { method: 'POST', body: batchOf(4), headers: key });
    expect(replay.status).toBe(202);
    expect(await replay.json()).toMatchObject({ job_id });

    // 8 used: 12 more reach the limit exactly, which a second charge of the replay would have overrun.
    const second = await call(carol, '/research/batch', { method: 'POST', body: batchOf(6) });
    expect(second.status).toBe(202);
    const { job_id: secondId } = (await second.json()) as { job_id: string };

    const refused = await call(carol, '/research/batch', { method: 'POST', body: batchOf(1) });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({
      error: 'quota_exceeded',
      message: `used 20 of ${DAILY_UNITS} research units today (UTC), this request needs 2; the budget resets at 00:00 UTC`,
    });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Math.abs(retryAfter - utcDay(new Date()).retryAfterSeconds)).toBeLessThanOrEqual(5);
    // A replay is still answered with its job once the budget is spent: it was paid for when the job was created.
    const lateReplay = await call(carol, '/research/batch', { method: 'POST', body: batchOf(4), headers: key });
    expect(lateReplay.status).toBe(202);
    expect(await lateReplay.json()).toMatchObject({ job_id });

    const listed = (await (await call(carol, '/jobs')).json()) as { jobs: { job_id: string }[] };
    expect(listed.jobs.map((job) => job.job_id).sort()).toEqual([job_id, secondId].sort());
    await Promise.all([services.runtime.waitForJob(job_id), services.runtime.waitForJob(secondId)]);
  });

  it('charge a single company max_iterations × max_queries, and refuse one bigger than a whole day without Retry-After', async () => {
    const dave = await token('client-dave');
    const refused = await call(dave, '/research/single', {
      method: 'POST',
      body: { company_name: 'Brightgull Robotics', extraction_schema: schema, max_iterations: 5, max_queries: 5 },
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await refused.json()).toEqual({
      error: 'quota_exceeded',
      message: `used 0 of ${DAILY_UNITS} research units today (UTC), this request needs 25, more than the daily limit: split it or lower max_iterations/max_queries`,
    });
    expect(((await (await call(dave, '/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });
});

describe('research started through an A2A agent', () => {
  const send = async (bearer: string, agent: 'Coordinator' | 'Research', data: unknown, skill: string) => {
    const endpoint = services.agents.find((a) => a.function.includes(agent) && !a.function.includes('Coordinator') === (agent !== 'Coordinator'))!;
    const response = await fetch(`${endpoint.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'SendMessage',
        params: { message: { messageId: crypto.randomUUID(), role: 'ROLE_USER', parts: [{ data }], metadata: { skill_id: skill } } },
      }),
    });
    return ((await response.json()) as any).result.task;
  };

  it('spends the same daily units as the REST API: a batch, a company or a research round beyond them is rejected, naming the quota', async () => {
    const frank = await token('client-frank');
    // 16 of 20 units through REST, then an A2A batch of 3 companies × 2 units does not fit.
    expect((await call(frank, '/research/batch', { method: 'POST', body: batchOf(8) })).status).toBe(202);
    const batch = await send(frank, 'Coordinator', batchOf(3), 'research_companies');
    expect(batch.status.state).toBe('TASK_STATE_REJECTED');
    expect(batch.status.message.parts[0].text).toBe(
      `used 16 of ${DAILY_UNITS} research units today (UTC), this request needs 6; the budget resets at 00:00 UTC`,
    );
    const company = await send(frank, 'Coordinator', { company_name: 'Mercury Freight', extraction_schema: schema, max_iterations: 3, max_queries: 2 }, 'research_company');
    expect(company.status.state).toBe('TASK_STATE_REJECTED');
    expect(company.status.message.parts[0].text).toMatch(/^used 16 of 20 research units today \(UTC\), this request needs 6/);

    // A direct research round of 4 queries still fits, and is charged: the next one does not.
    const round = { company_name: 'Brightgull Robotics', extraction_schema: schema, max_queries: 4 };
    expect((await send(frank, 'Research', round, 'research_company')).status.state).toBe('TASK_STATE_COMPLETED');
    const over = await send(frank, 'Research', { ...round, max_queries: 1 }, 'research_company');
    expect(over.status.state).toBe('TASK_STATE_REJECTED');
    expect(over.status.message.parts[0].text).toMatch(/^used 20 of 20 research units today/);
  });
});

describe('a quotas table that fails', () => {
  it('lets requests through (the counters are not worth an outage) but starts no research (that is what costs)', async () => {
    const erin = await token('client-erin');
    const table = process.env.QUOTAS_TABLE_NAME;
    process.env.QUOTAS_TABLE_NAME = 'no-such-table';
    // The handlers' logger, kept quiet here and asked what it said (imported only now: it reads the environment the
    // services set when first loaded).
    const { logger } = await import('../../lambdas/shared/observability');
    const logged = vi.spyOn(logger, 'error').mockImplementation(() => {});
    try {
      expect((await call(erin, '/jobs')).status).toBe(200);
      expect(logged).toHaveBeenCalledWith('rate limit not checked: the quotas table failed; the request goes through', expect.objectContaining({ client: 'client-erin' }));
      const submitted = await call(erin, '/research/batch', { method: 'POST', body: batchOf(1) });
      expect(submitted.status).toBe(500);
      expect(await submitted.json()).toMatchObject({ error: 'internal_error' });
    } finally {
      process.env.QUOTAS_TABLE_NAME = table;
      logged.mockRestore();
    }
    expect(((await (await call(erin, '/jobs')).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });
});
