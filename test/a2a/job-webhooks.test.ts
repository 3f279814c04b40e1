/**
 * A job's webhook: submitted with a callback_url, the job's summary is POSTed when it ends, signed with the
 * client's secret (which GET /webhooks/secret shows its owner), retried when the receiver fails, and the delivery
 * is recorded on the job. Through real HTTP on `dossier serve`'s services.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobViewSchema } from '../../lambdas/core/contracts';
import { SIGNATURE_HEADER, signatureProblem } from '../../lambdas/core/webhook-signature';
import { startLocalServices, type LocalServices } from '../../local/local-services';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8'));
let services: LocalServices;
let alice: string;

beforeAll(async () => {
  services = await startLocalServices({ corpusDir: 'examples/corpus', providers: 'stand-ins', retryIntervalMs: 0 });
  alice = await services.issuer.mintToken({ subject: 'client-alice' });
}, 120_000);

afterAll(async () => {
  await services?.stop();
});

/** A receiver on this machine answering each delivery with the next status of `answers` (the last one repeats). */
async function receiver(answers: number[]) {
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
    response.writeHead(answers[Math.min(received.length - 1, answers.length - 1)]!).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/dossier-hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const call = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${services.restUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${alice}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: (await response.json()) as any };
};

describe('job webhooks', () => {
  it('POST the ended job, signed with the client’s secret, after one retry, and record the delivery', async () => {
    const hook = await receiver([503, 200]);
    try {
      const submitted = await call('POST', '/research/batch', { companies: ['Brightgull Robotics'], extraction_schema: schema, max_iterations: 1, callback_url: hook.url });
      expect(submitted.status).toBe(202);
      const jobId = submitted.body.job_id;
      expect((await call('GET', `/jobs/${jobId}`)).body.webhook).toEqual({ url: hook.url, status: 'pending', attempts: 0 });
      await services.runtime.waitForJob(jobId);

      expect(hook.received).toHaveLength(2);
      const { secret, signature_header } = (await call('GET', '/webhooks/secret')).body;
      expect(signature_header).toBe(SIGNATURE_HEADER);
      for (const delivery of hook.received) {
        expect(signatureProblem(secret, delivery.body, delivery.headers[SIGNATURE_HEADER] as string, new Date())).toBeUndefined();
        expect(signatureProblem('whsec_someone-else', delivery.body, delivery.headers[SIGNATURE_HEADER] as string, new Date())).toBe('the signature does not match');
      }
      const payload = JSON.parse(hook.received[1]!.body);
      expect(payload.event).toBe('job.ended');
      expect(jobViewSchema.parse(payload.job)).toMatchObject({ job_id: jobId, status: 'COMPLETED', progress: { total: 1, completed: 1, failed: 0 } });

      const job = (await call('GET', `/jobs/${jobId}`)).body;
      expect(job.webhook).toMatchObject({ url: hook.url, status: 'delivered', attempts: 2, last_status_code: 200 });
    } finally {
      await hook.close();
    }
  });

  it('records a delivery that kept failing, with its attempts and the last answer; the job itself is unaffected', async () => {
    const hook = await receiver([500]);
    try {
      const { body } = await call('POST', '/research/batch', { companies: ['Mercury Freight'], extraction_schema: schema, max_iterations: 1, callback_url: hook.url });
      await services.runtime.waitForJob(body.job_id);
      const job = (await call('GET', `/jobs/${body.job_id}`)).body;
      expect(job.status).toBe('COMPLETED');
      expect(job.webhook).toMatchObject({ status: 'failed', attempts: 5, last_status_code: 500 });
      expect(hook.received).toHaveLength(5);
    } finally {
      await hook.close();
    }
  });

  it('refuses a callback_url that is not a URL, or not http(s), before any job exists', async () => {
    for (const callback_url of ['not a url', 'ftp://example.com/hook']) {
      const answer = await call('POST', '/research/batch', { companies: ['Acme'], extraction_schema: schema, callback_url });
      expect(answer.status, callback_url).toBe(400);
      expect(answer.body.message).toMatch(/callback_url/);
    }
    expect((await call('GET', '/jobs')).body.jobs.every((j: any) => j.webhook?.url !== 'ftp://example.com/hook')).toBe(true);
  });

  it('gives each client its own signing secret, the same on every call', async () => {
    const first = (await call('GET', '/webhooks/secret')).body.secret;
    expect(first).toMatch(/^whsec_/);
    expect((await call('GET', '/webhooks/secret')).body.secret).toBe(first);
    const bob = await services.issuer.mintToken({ subject: 'client-bob' });
    const bobs = (await (await fetch(`${services.restUrl}/webhooks/secret`, { headers: { authorization: `Bearer ${bob}` } })).json()) as { secret: string };
    expect(bobs.secret).not.toBe(first);
  });
});
