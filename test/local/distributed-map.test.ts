/**
 * The local interpreter ignores ItemReader, ResultWriter and the tolerated-failure settings of a Distributed Map.
 * These tests run small definitions through the rewrite and show each feature behaving as on AWS.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetAwsClients, s3Client } from '../../lambdas/shared/aws-clients';
import { ResultStore } from '../../lambdas/store/result-store';
import { emulateDistributedMaps, exceedsTolerance } from '../../local/distributed-map';
import { startEmbeddedAws, type EmbeddedAws } from '../../local/embedded-aws';
import { StepFunctionsServer } from '../../local/step-functions-server';
import { TaskError, itemReaderHandler, resultWriterHandler } from '../../local/task-handlers';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:emulation-test';
const WORK = 'arn:aws:lambda:us-east-1:000000000000:function:work';
let aws: EmbeddedAws;
let bucket: string;

/** A parent with one Distributed Map over items in S3; each child runs one Task, "Work". */
function definition(map: Record<string, unknown> = {}) {
  return {
    StartAt: 'Prepare',
    States: {
      Prepare: { Type: 'Pass', Next: 'Fan' },
      Fan: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { Bucket: bucket, 'Key.$': '$.manifest_key' },
        },
        ItemSelector: { 'name.$': '$$.Map.Item.Value.name', 'tag.$': '$.tag' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Work',
          States: { Work: { Type: 'Task', Resource: WORK, End: true } },
        },
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: bucket, Prefix: 'map-out' } },
        ResultPath: '$.map',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
        Next: 'Done',
        ...map,
      },
      Done: { Type: 'Succeed' },
      Failed: { Type: 'Pass', End: true },
    },
  };
}

async function run(def: ReturnType<typeof definition>, items: { name: string }[], failing: string[] = []) {
  const key = `manifests/${crypto.randomUUID()}.json`;
  await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(items) }));
  const { definition: rewritten, emulations } = emulateDistributedMaps(def as any);
  const [emulation] = emulations;
  const seen: unknown[] = [];
  const server = new StepFunctionsServer({
    stateMachineArn: ARN,
    definition: rewritten,
    taskHandlers: {
      Work: async (input: { name: string; tag: string }) => {
        seen.push(input);
        if (failing.includes(input.name)) throw new TaskError('WorkFailed', `cannot do ${input.name}`);
        return { done: input.name };
      },
      [emulation!.readerState!]: itemReaderHandler(emulation!),
      [emulation!.writerState]: resultWriterHandler(emulation!),
    },
  });
  const execution = await server.start(ARN, `run-${Date.now()}`, JSON.stringify({ manifest_key: key, tag: 't1' })).done;
  return { execution, output: execution.output ? JSON.parse(execution.output) : undefined, seen };
}

async function readJson(key: string): Promise<any> {
  return new ResultStore(s3Client(), bucket).getJson(key);
}

beforeAll(async () => {
  aws = await startEmbeddedAws({ Resources: { Bucket: { Type: 'AWS::S3::Bucket' } } });
  bucket = aws.buckets[0]!;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
  });
  resetAwsClients();
});

afterAll(async () => {
  await aws?.stop();
});

describe('the interpreter on its own', () => {
  it('ignores ItemReader: a Distributed Map without an input array fails', async () => {
    const machine = new StateMachine(definition() as any, { validationOptions: { checkArn: false } });
    const run = machine.run({ manifest_key: 'anything' }, { overrides: { taskResourceLocalHandlers: { Work: async () => ({}) } } });
    // A runtime error, which no Catch can handle: the map never runs a child.
    await expect(run.result).rejects.toThrow(/must be an array/);
  });
});

describe('the emulated Distributed Map', () => {
  it('reads its items from the S3 object the ItemReader names, and selects each item', async () => {
    const items = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
    const { execution, seen } = await run(definition(), items);
    expect(execution.status).toBe('SUCCEEDED');
    expect(seen).toHaveLength(3);
    expect(seen).toEqual(expect.arrayContaining(items.map((i) => ({ name: i.name, tag: 't1' }))));
  });

  it('writes results where ResultWriter says and puts only the pointer in the state', async () => {
    const { output } = await run(definition(), [{ name: 'a' }, { name: 'b' }]);
    expect(output.map.ResultWriterDetails.Bucket).toBe(bucket);
    expect(output.map.ResultWriterDetails.Key).toMatch(/^map-out\/run-\d+-.+\/manifest\.json$/);
    expect(output).not.toHaveProperty('__dossier_items');
    expect(output).not.toHaveProperty('__dossier_map_results');
    const manifest = await readJson(output.map.ResultWriterDetails.Key);
    const succeeded = await readJson(manifest.ResultFiles.SUCCEEDED[0].Key);
    expect(succeeded.map((e: { Output: string }) => JSON.parse(e.Output))).toEqual([{ done: 'a' }, { done: 'b' }]);
  });

  it('fails on the first failed child when no failure is tolerated (the default)', async () => {
    const { output } = await run(definition(), [{ name: 'a' }, { name: 'b' }], ['b']);
    expect(output.error.Error).toBe('States.ExceedToleratedFailureThreshold');
  });

  it('tolerates failures up to ToleratedFailurePercentage and reports them in FAILED_0.json', async () => {
    const items = [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }];
    const { execution, output } = await run(definition({ ToleratedFailurePercentage: 25 }), items, ['c']);
    expect(execution.status).toBe('SUCCEEDED');
    expect(output.error).toBeUndefined();
    const manifest = await readJson(output.map.ResultWriterDetails.Key);
    const failed = await readJson(manifest.ResultFiles.FAILED[0].Key);
    expect(failed).toEqual([{ Error: 'WorkFailed', Cause: 'cannot do c', Status: 'FAILED' }]);
  });

  it('fails the map once failures pass the tolerance, through the map\'s own Catch', async () => {
    const items = [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }];
    const { output } = await run(definition({ ToleratedFailurePercentage: 25 }), items, ['a', 'c']);
    expect(output.error.Error).toBe('States.ExceedToleratedFailureThreshold');
    expect(output.error.Cause).toMatch(/2 of 4 items failed/);
  });
});

describe('the tolerance rule', () => {
  const outcomes = (failed: number, total: number) =>
    Array.from({ length: total }, (_, index) => ({ index, failed: index < failed }));
  it('accepts failures within either the count or the percentage', () => {
    expect(exceedsTolerance(outcomes(0, 10), {})).toBe(false);
    expect(exceedsTolerance(outcomes(1, 10), {})).toBe(true);
    expect(exceedsTolerance(outcomes(1, 10), { toleratedFailurePercentage: 10 })).toBe(false);
    expect(exceedsTolerance(outcomes(2, 10), { toleratedFailurePercentage: 10 })).toBe(true);
    expect(exceedsTolerance(outcomes(2, 10), { toleratedFailureCount: 2 })).toBe(false);
    expect(exceedsTolerance(outcomes(3, 10), { toleratedFailureCount: 2, toleratedFailurePercentage: 20 })).toBe(true);
  });
});
