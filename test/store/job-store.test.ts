/**
 * The job store's progress counting against dynalite, on the jobs table synthesized from the Storage construct,
 * through the real DynamoDBDocumentClient: each company counted once, a redriven failure moved to completed, the
 * job item itself never growing with the batch.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '../../lib/storage';
import { DynamoJobStore, PROGRESS_SHARD_SIZE } from '../../lambdas/store/job-store';
import { startEmbeddedAws, type EmbeddedAws } from '../../local/embedded-aws';
import { localName, type CfnTemplate } from '../../local/template';

let aws: EmbeddedAws;
let client: DynamoDBDocumentClient;
let tableName: string;
let store: DynamoJobStore;
let jobNumber = 0;

beforeAll(async () => {
  const app = new App();
  const stack = new Stack(app, 'JobStoreTest');
  const storage = new Storage(stack, 'Storage');
  aws = await startEmbeddedAws(Template.fromStack(stack).toJSON() as CfnTemplate);
  tableName = localName(stack.getLogicalId(storage.jobsTable.node.defaultChild as CfnTable));
  client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: aws.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  store = new DynamoJobStore(client, tableName);
});

afterAll(async () => {
  await aws?.stop();
});

async function newJob(total: number, extra: { submitted_by?: string } = {}) {
  const job_id = `00000000-0000-4000-8000-${String(++jobNumber).padStart(12, '0')}`;
  await store.create({ job_id, total, request_hash: 'h', manifest_key: 'm', kind: 'batch', ...extra }, new Date());
  return job_id;
}

describe('progress counting', () => {
  it('counts each company once, whatever order and repetition its reports come in', async () => {
    const jobId = await newJob(600);
    const reports = Array.from({ length: 600 }, (_, i) => [i, i % 7 === 0 ? 'failed' : 'completed'] as const);
    // Every company reported twice, concurrently, in an order that spans the progress items.
    const counted = await Promise.all([...reports, ...reports].map(([i, outcome]) => store.countOutcome(jobId, i, outcome, new Date())));
    expect(counted.filter(Boolean)).toHaveLength(600);
    const failed = reports.filter(([, o]) => o === 'failed').length;
    expect(await store.get(jobId)).toMatchObject({ total: 600, completed: 600 - failed, failed });
    const outcomes = await store.countedOutcomes(jobId, 600);
    expect(outcomes.size).toBe(600);
    expect(outcomes.get(7)).toBe('failed');
    expect(outcomes.get(8)).toBe('completed');
  });

  it('never writes the counted companies onto the job item, and keeps each progress item bounded', async () => {
    const total = PROGRESS_SHARD_SIZE * 3;
    const jobId = await newJob(total);
    await Promise.all(Array.from({ length: total }, (_, i) => store.countOutcome(jobId, i, 'completed', new Date())));
    const { Item: job } = await client.send(new GetCommand({ TableName: tableName, Key: { job_id: jobId } }));
    expect(Object.keys(job!)).not.toEqual(expect.arrayContaining(['completed_indexes']));
    expect(JSON.stringify(job).length).toBeLessThan(1_000);
    for (let shard = 0; shard < 3; shard++) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { job_id: `${jobId}#progress-${shard}` } }));
      expect((Item!.completed_indexes as Set<string>).size).toBe(PROGRESS_SHARD_SIZE);
    }
  });

  it('moves a company counted failed to completed when it completes later, once; never the other way', async () => {
    const jobId = await newJob(2);
    expect(await store.countOutcome(jobId, 0, 'failed', new Date())).toBe(true);
    expect(await store.countOutcome(jobId, 1, 'completed', new Date())).toBe(true);
    expect(await store.countOutcome(jobId, 1, 'failed', new Date())).toBe(false);
    expect(await store.get(jobId)).toMatchObject({ completed: 1, failed: 1 });

    const moves = await Promise.all([0, 0, 0].map(() => store.countOutcome(jobId, 0, 'completed', new Date())));
    expect(moves.filter(Boolean)).toHaveLength(1);
    expect(await store.get(jobId)).toMatchObject({ completed: 2, failed: 0 });
    expect(await store.countedOutcomes(jobId, 2)).toEqual(new Map([[0, 'completed'], [1, 'completed']]));
  });

  it('adds what each company spent once, with its count; a redriven company adds its second run too', async () => {
    const jobId = await newJob(2);
    await store.countOutcome(jobId, 0, 'completed', new Date(), 0.012);
    await store.countOutcome(jobId, 0, 'completed', new Date(), 0.012);
    await store.countOutcome(jobId, 1, 'failed', new Date(), 0.004);
    expect((await store.get(jobId))!.cost_usd).toBe(0.016);
    await store.countOutcome(jobId, 1, 'completed', new Date(), 0.01);
    expect(await store.get(jobId)).toMatchObject({ completed: 2, failed: 0, cost_usd: 0.026 });
  });

  it('lists a client’s jobs with their progress', async () => {
    const a = await newJob(3, { submitted_by: 'client-progress' });
    const b = await newJob(300, { submitted_by: 'client-progress' });
    await store.countOutcome(a, 2, 'completed', new Date());
    await store.countOutcome(b, 299, 'failed', new Date());
    const { jobs } = await store.listForClient('client-progress', { limit: 10 });
    expect(jobs.map((j) => [j.job_id, j.completed, j.failed])).toEqual(
      expect.arrayContaining([
        [a, 1, 0],
        [b, 0, 1],
      ]),
    );
  });
});

describe('reopening a job for a redrive', () => {
  it('reopens an ended job once, from the state the caller read, and can restore it', async () => {
    const jobId = await newJob(1);
    await store.countOutcome(jobId, 0, 'failed', new Date());
    await store.markCompleted(jobId, { jsonlKey: 'j', csvKey: 'c' }, new Date());
    await store.recordWebhook(jobId, { status: 'delivered', attempts: 1, at: new Date().toISOString() });
    const ended = (await store.get(jobId))!;

    const both = await Promise.all([store.reopenForRedrive(ended, 'arn:redrive', new Date()), store.reopenForRedrive(ended, 'arn:redrive', new Date())]);
    expect(both.sort()).toEqual([false, true]);
    const reopened = (await store.get(jobId))!;
    expect(reopened).toMatchObject({ status: 'SUBMITTED', redrives: 1, failed: 1, results_jsonl_key: 'j', execution_arn: 'arn:redrive' });
    expect(reopened.webhook).toBeUndefined();
    expect(reopened.finished_at).toBeUndefined();

    await store.restoreAfterRedrive(ended, new Date());
    expect(await store.get(jobId)).toMatchObject({ status: 'COMPLETED', redrives: 0, webhook: { status: 'delivered' }, finished_at: ended.finished_at });
  });
});
