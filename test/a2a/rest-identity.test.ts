/**
 * The REST API takes the same tokens as the agents: its authorizer (the function the template names) runs before
 * every route, as API Gateway runs it, and a client sees only its own jobs, whichever door started them.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyAllows, policyFor } from '../../lambdas/core/api-access';
import { SCOPES } from '../../lambdas/core/scopes';
import { startLocalServices, type LocalServices } from '../../local/local-services';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));
let services: LocalServices;
let alice: string;
let bob: string;

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
  alice = await services.issuer.mintToken({ subject: 'client-alice' });
  bob = await services.issuer.mintToken({ subject: 'client-bob' });
}, 120_000);

afterAll(async () => {
  await services?.stop();
});

const submit = (bearer: string | undefined, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${services.restUrl}/research/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
const getJob = (bearer: string, id: string) => fetch(`${services.restUrl}/jobs/${id}`, { headers: { authorization: `Bearer ${bearer}` } });
const batch = { companies: ['Brightgull Robotics'], extraction_schema: schema, max_iterations: 1 };

describe('route policies from scopes', () => {
  const stage = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/v1';
  it('open every route the scopes allow and nothing else, so a cached policy is right for any route', () => {
    const research = policyFor(stage, [SCOPES.research]);
    const read = policyFor(stage, [SCOPES.read]);
    expect(policyAllows(research, `${stage}/POST/research/batch`)).toBe(true);
    expect(policyAllows(research, `${stage}/GET/jobs/0b6c2c1e-0000-4000-8000-000000000000`)).toBe(true);
    expect(policyAllows(read, `${stage}/GET/jobs/0b6c2c1e-0000-4000-8000-000000000000`)).toBe(true);
    expect(policyAllows(read, `${stage}/POST/research/batch`)).toBe(false);
    expect(policyAllows(research, `${stage}/GET/jobs/a/b`)).toBe(false);
    expect(policyFor(stage, ['other/scope']).Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${stage}/*`] }]);
  });
});

describe('the REST API with the project identity', () => {
  it('refuses a request without a token, or with a bad one, with 401 and a Bearer challenge', async () => {
    for (const bearer of [undefined, 'not-a-jwt', await services.issuer.mintToken({ expiresInSeconds: -300 })]) {
      const response = await submit(bearer, batch);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="dossier"/);
    }
  });

  it('lets a read-only token read but not submit', async () => {
    const reader = await services.issuer.mintToken({ subject: 'client-alice', scopes: [SCOPES.read] });
    const refused = await submit(reader, batch);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
    const accepted = await submit(alice, batch);
    expect(accepted.status).toBe(202);
    const { job_id } = (await accepted.json()) as { job_id: string };
    await services.runtime.waitForJob(job_id);
    expect((await getJob(reader, job_id)).status).toBe(200);
  });

  it("shows a client its own jobs and answers 404 for another client's, as for a job that does not exist", async () => {
    const { job_id } = (await (await submit(alice, batch)).json()) as { job_id: string };
    await services.runtime.waitForJob(job_id);
    const own = await getJob(alice, job_id);
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ job_id, status: 'COMPLETED' });
    const other = await getJob(bob, job_id);
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ error: 'job_not_found', message: `no job ${job_id}` });
  });

  it('keeps two clients apart even when they choose the same Idempotency-Key', async () => {
    const key = { 'Idempotency-Key': 'nightly-2026-11-28' };
    const first = (await (await submit(alice, batch, key)).json()) as { job_id: string };
    const second = await submit(bob, { ...batch, companies: ['Mercury Freight'] }, key);
    expect(second.status).toBe(202);
    const { job_id } = (await second.json()) as { job_id: string };
    expect(job_id).not.toBe(first.job_id);
    expect((await (await submit(alice, batch, key)).json()) as { job_id: string }).toMatchObject({ job_id: first.job_id });
    await Promise.all([services.runtime.waitForJob(first.job_id), services.runtime.waitForJob(job_id)]);
  });

  it('reads a job an A2A task started, for the same client only', async () => {
    const coordinator = services.agents.find((a) => a.streaming)!;
    const started = await fetch(`${coordinator.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0', authorization: `Bearer ${alice}` },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'SendMessage',
        params: { message: { messageId: 'rest-1', role: 'ROLE_USER', parts: [{ data: { company_name: 'Brightgull Robotics', extraction_schema: schema, max_iterations: 1 } }] } },
      }),
    });
    const taskId = ((await started.json()) as any).result.task.id as string;
    expect(await (await getJob(alice, taskId)).json()).toMatchObject({ job_id: taskId, status: 'COMPLETED', progress: { total: 1, completed: 1 } });
    expect((await getJob(bob, taskId)).status).toBe(404);
  });
});
