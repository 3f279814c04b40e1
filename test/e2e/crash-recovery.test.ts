/**
 * Lambda invocations that die like crashed runtimes (local/crash-injection.ts), on the local runtime: each step
 * is run again by its Retry, and no company is lost or counted twice, even when storage dies between writing a
 * result to S3 and counting it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompanyResult, ExtractionSchema } from '../../lambdas/core/contracts';
import { jobKeys } from '../../lambdas/core/job-layout';
import type { CrashPlan, CrashStage } from '../../local/crash-injection';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;

let runtime: LocalRuntime;
/** The crash plan of the test that is running. */
let plan: CrashPlan | undefined;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
    crashes: (invocation) => plan?.(invocation),
  });
});

afterAll(async () => {
  await runtime?.stop();
});

const parseJsonl = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as CompanyResult);

describe('crashed Lambda invocations', () => {
  it('are run again: a storage step that dies between its S3 write and its count completes the company, counted once', async () => {
    const invocations = new Map<string, number>();
    // The first attempt of each of these dies where given; every later attempt runs normally.
    const firstAttemptDies: Record<string, CrashStage> = {
      'StoreResult:0': 'checkpoint', // the result is in S3, the count is not
      'Research:1': 'start',
      'StoreResult:2': 'end', // stored and counted, but the answer is lost
    };
    plan = ({ state, input }) => {
      const key = `${state}:${input.index}`;
      const attempt = (invocations.get(key) ?? 0) + 1;
      invocations.set(key, attempt);
      return attempt === 1 ? firstAttemptDies[key] : undefined;
    };
    try {
      const companies = ['Brightgull Robotics', 'Tallowmere Payments', 'Mercury Freight'];
      const submitted = await runtime.api.submitBatch({ companies, extraction_schema: schema, max_iterations: 1 });
      expect(submitted.statusCode).toBe(202);
      const jobId = submitted.body.job_id as string;
      const execution = await runtime.waitForJob(jobId);
      expect(execution.status, `${execution.error}: ${execution.cause}`).toBe('SUCCEEDED');

      expect(invocations.get('StoreResult:0')).toBe(2);
      expect(invocations.get('Research:1')).toBe(2);
      expect(invocations.get('StoreResult:2')).toBe(2);
      const results = parseJsonl((await runtime.results.getText(jobKeys.jsonl(jobId)))!);
      expect(results.map((r) => [r.index, r.status])).toEqual([
        [0, 'completed'],
        [1, 'completed'],
        [2, 'completed'],
      ]);
      expect(JSON.parse(execution.output!).assembled).toMatchObject({ total: 3, completed: 3, failed: 0, unrecorded: 0 });
      expect((await runtime.api.getJob(jobId)).body.progress).toEqual({ total: 3, completed: 3, failed: 0 });
    } finally {
      plan = undefined;
    }
  });
});
