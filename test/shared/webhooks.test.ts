/** Delivering a job's webhook over real HTTP to a receiver on this machine. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '../../lambdas/core/contracts';
import { deliverJobWebhook } from '../../lambdas/shared/webhooks';

let receiver: http.Server;
let port: number;
const received: string[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    received.push(req.url ?? '');
    res.writeHead(204).end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  port = (receiver.address() as AddressInfo).port;
});

afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

const job = { job_id: 'job-1', status: 'COMPLETED' } as unknown as JobView;
const policy = { attempts: 1, baseDelayMs: 0, timeoutMs: 2_000 };

describe('deliverJobWebhook', () => {
  it('never calls a host whose name resolves to a private address when deployed, and says why', async () => {
    const delivery = await deliverJobWebhook(`http://localhost:${port}/deployed`, job, 'secret', policy);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 1 });
    expect(delivery.last_error).toMatch(/localhost resolves to a private address/);
    expect(received).not.toContain('/deployed');
  });

  it('delivers to this machine in a local run, which allows it', async () => {
    const delivery = await deliverJobWebhook(`http://localhost:${port}/local`, job, 'secret', { ...policy, allowPrivateAddresses: true });
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204 });
    expect(received).toContain('/local');
  });
});
