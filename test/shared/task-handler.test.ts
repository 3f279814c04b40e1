/**
 * The task wrapper's observability (lambdas/shared/task-handler.ts): every log line of a task carries the job and
 * the company it is about, only for that invocation, and a provider's throttle is counted as a metric.
 * Powertools writes JSON lines through its own Console (stdout; warnings and errors to stderr): the tests read them there.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { lambdaContext } from '../../local/task-handlers';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { logger } from '../../lambdas/shared/observability';
import { taskHandler } from '../../lambdas/shared/task-handler';

const context = () => lambdaContext('Research', 'arn:aws:lambda:eu-west-1:000000000000:function:Research', 30_000) as any;

let lines: Record<string, any>[];
beforeEach(() => {
  lines = [];
  logger.setLogLevel('INFO');
  const capture = (chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) if (line.trim().startsWith('{')) lines.push(JSON.parse(line));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => vi.restoreAllMocks());

const logLine = (message: string) => lines.find((line) => line.message === message);

const payload = z.object({ job_id: z.string().optional(), index: z.number().optional(), company_name: z.string() });

describe('task logs', () => {
  it("carry the payload's job_id and index on a line the handler writes during the task", async () => {
    const handler = taskHandler(payload, async (input) => {
      logger.info('researching', { company: input.company_name });
      return 'done';
    });
    await handler({ job_id: 'job-42', index: 7, company_name: 'Brightgull Robotics' }, context());

    const line = logLine('researching');
    expect(line, 'the handler wrote its line to stdout').toBeDefined();
    expect(line).toMatchObject({ job_id: 'job-42', index: 7, company: 'Brightgull Robotics', service: 'dossier', level: 'INFO' });
    // The Lambda context is still there beside them.
    expect(line).toMatchObject({ function_name: 'Research' });
  });

  it('drop them after the invocation: the next task of a warm container does not log the last job', async () => {
    const handler = taskHandler(payload, async () => {
      logger.info('working');
    });
    await handler({ job_id: 'job-1', index: 0, company_name: 'A' }, context());
    await handler({ company_name: 'B' }, context());
    logger.info('between invocations');

    const [first, second] = lines.filter((line) => line.message === 'working');
    expect(first).toMatchObject({ job_id: 'job-1', index: 0 });
    expect(second).toBeDefined();
    expect(second).not.toHaveProperty('job_id');
    expect(second).not.toHaveProperty('index');
    expect(logLine('between invocations')).not.toHaveProperty('job_id');
  });

  it('are kept when the task fails, and dropped after it', async () => {
    const handler = taskHandler(payload, async () => {
      logger.warn('about to fail');
      throw new Error('boom');
    });
    await expect(handler({ job_id: 'job-9', index: 2, company_name: 'C' }, context())).rejects.toThrow('boom');
    expect(logLine('about to fail')).toMatchObject({ job_id: 'job-9', index: 2 });
    logger.info('after the failure');
    expect(logLine('after the failure')).not.toHaveProperty('job_id');
  });

  it('ignore a job_id or index of the wrong type', async () => {
    const handler = taskHandler(z.unknown(), async () => {
      logger.info('odd payload');
    });
    await handler({ job_id: 42, index: 'seven' }, context());
    expect(logLine('odd payload')).toBeDefined();
    expect(logLine('odd payload')).not.toHaveProperty('job_id');
    expect(logLine('odd payload')).not.toHaveProperty('index');
  });
});

describe('ProviderThrottled metric', () => {
  /** The EMF documents Powertools Metrics flushed to stdout, by metric name. */
  const emfWith = (name: string) =>
    lines.filter((line) => line._aws?.CloudWatchMetrics?.some((m: any) => m.Metrics.some((metric: any) => metric.Name === name)));

  it('is counted when a task fails on a provider throttle, in the Dossier namespace with the service dimension', async () => {
    const handler = taskHandler(payload, async () => {
      throw new ProviderError('ProviderThrottled', 'tavily', 'HTTP 429');
    });
    // The error still reaches the state machine, whose Retry on ProviderThrottled takes over.
    await expect(handler({ job_id: 'job-3', index: 1, company_name: 'D' }, context())).rejects.toMatchObject({ name: 'ProviderThrottled' });

    const [emf, ...more] = emfWith('ProviderThrottled');
    expect(more).toHaveLength(0);
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Dossier', Dimensions: [['service']] });
    expect(emf).toMatchObject({ service: 'dossier', ProviderThrottled: 1 });
  });

  it('is not counted for other failures', async () => {
    const handler = taskHandler(payload, async () => {
      throw new ProviderError('ProviderUnavailable', 'anthropic', 'HTTP 503');
    });
    await expect(handler({ company_name: 'E' }, context())).rejects.toMatchObject({ name: 'ProviderUnavailable' });
    expect(emfWith('ProviderThrottled')).toHaveLength(0);
  });
});
