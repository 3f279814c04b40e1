/**
 * One company on the EXPRESS company machine, on the local runtime: a job of one company is recorded, the machine
 * is started synchronously through the handlers' own SFN client, and the chain stores and counts the company
 * exactly as a batch's child would.
 */
import { readFileSync } from 'node:fs';
import { StartSyncExecutionCommand, StateMachineTypeNotSupported } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRequestSchema, companyResultSchema, type ExtractionSchema } from '../../lambdas/core/contracts';
import { companyRunInput } from '../../lambdas/core/job-layout';
import { recordProblems } from '../../lambdas/core/json-schema';
import { documentClient, sfnClient } from '../../lambdas/shared/aws-clients';
import { DynamoJobStore } from '../../lambdas/store/job-store';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime';
import type { LocalExecution } from '../../local/step-functions-server';

const schema = JSON.parse(readFileSync('examples/schema.json', 'utf8')) as ExtractionSchema;
const options = batchRequestSchema.parse({ companies: ['-'], extraction_schema: schema, max_iterations: 2 });

let runtime: LocalRuntime;
let jobs: DynamoJobStore;
const ended: LocalExecution[] = [];

/** What a single-company caller does: record a job of one company, then run the machine and wait for it. */
async function researchOne(companyName: string) {
  const jobId = crypto.randomUUID();
  await jobs.create({ job_id: jobId, total: 1, request_hash: 'h', manifest_key: `jobs/${jobId}/manifest.json` }, new Date());
  const answer = await sfnClient().send(
    new StartSyncExecutionCommand({
      stateMachineArn: process.env.COMPANY_STATE_MACHINE_ARN,
      name: jobId,
      input: JSON.stringify(companyRunInput(jobId, 0, companyName, options)),
    }),
  );
  const stored = await runtime.results.getCompanyResult(jobId, 0);
  return { jobId, answer, result: stored && companyResultSchema.parse(stored), job: await jobs.get(jobId) };
}

beforeAll(async () => {
  runtime = await startLocalRuntime({
    corpusDir: 'examples/corpus',
    providers: 'stand-ins',
    retryIntervalMs: 0,
    faults: { tavily: [{ match: 'Quenvale Fieldworks', status: 503 }], gemini: [{ match: 'Quenvale Fieldworks', status: 503 }] },
  });
  jobs = new DynamoJobStore(documentClient(), process.env.JOBS_TABLE_NAME!);
  runtime.onExecutionEnd((execution) => {
    ended.push(execution);
  });
});

afterAll(async () => {
  await runtime?.stop();
});

describe('the company machine', () => {
  it('is served beside the coordinator, under the ARNs the handlers are given', () => {
    expect(runtime.stateMachines.map((m) => [m.arn, m.type]).sort()).toEqual(
      [[runtime.coordinatorArn, 'STANDARD'], [runtime.companyMachineArn, 'EXPRESS']].sort(),
    );
    expect(process.env.COMPANY_STATE_MACHINE_ARN).toBe(runtime.companyMachineArn);
    expect(process.env.STATE_MACHINE_ARN).toBe(runtime.coordinatorArn);
  });

  it('researches one company to a stored, schema-valid result counted in its job', async () => {
    const { jobId, answer, result, job } = await researchOne('Brightgull Robotics');
    expect(answer.status, `${answer.error}: ${answer.cause}`).toBe('SUCCEEDED');
    expect(JSON.parse(answer.output!)).toEqual({ index: 0, status: 'completed', counted: true });
    expect(answer.executionArn).toContain(`:express:`);

    expect(result).toMatchObject({
      index: 0,
      company_name: 'Brightgull Robotics',
      status: 'completed',
      complete: true,
      data: { founded_year: 2014, ceo: 'Mette Langgaard' },
    });
    expect(recordProblems(schema, result!.data, { partial: false })).toEqual([]);
    expect(job).toMatchObject({ job_id: jobId, total: 1, completed: 1, failed: 0 });

    const mine = ended.filter((e) => e.executionArn === answer.executionArn);
    expect(mine.map((e) => [e.status, e.stateMachineType])).toEqual([['SUCCEEDED', 'EXPRESS']]);
  });

  it('records a company whose provider keeps failing as failed, with the reason, and still succeeds', async () => {
    const { answer, result, job } = await researchOne('Quenvale Fieldworks');
    expect(answer.status).toBe('SUCCEEDED');
    expect(JSON.parse(answer.output!)).toEqual({ index: 0, status: 'failed', counted: true });
    expect(result).toMatchObject({ company_name: 'Quenvale Fieldworks', status: 'failed', complete: false });
    expect(result!.failure_reason).toMatch(/ProviderUnavailable/);
    expect(job).toMatchObject({ completed: 0, failed: 1 });
  });

  it('is the only machine StartSyncExecution runs: the STANDARD coordinator refuses it', async () => {
    const before = ended.length;
    await expect(
      sfnClient().send(new StartSyncExecutionCommand({ stateMachineArn: runtime.coordinatorArn, input: '{}' })),
    ).rejects.toBeInstanceOf(StateMachineTypeNotSupported);
    expect(ended).toHaveLength(before);
  });
});
