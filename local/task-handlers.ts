/**
 * What runs behind each Task state locally: the same Lambda handler code in-process, the DynamoDB service
 * integration against the embedded DynamoDB, and the emulated Distributed Map states against the embedded S3.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as DynamoDB from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../lambdas/shared/aws-clients';
import { PROJECT_ROOT } from '../lib/agent-function';
import {
  ITEMS_KEY,
  RESULTS_KEY,
  applyResultPath,
  childOutcomes,
  exceedsTolerance,
  type MapEmulation,
} from './distributed-map';
import { parseCsvRecords } from './companies-file';
import { invokeWithCrashes, type CrashPlan } from './crash-injection';
import type { LocalFunction } from './template';

type TaskHandler = (input: any) => Promise<any>;

/** One Lambda task's run, for benchmarks that want to see where a batch's time goes. */
export interface TaskTiming {
  state: string;
  /** The company's index, when the task's input names one. */
  index?: number;
  startedAt: number;
  endedAt: number;
}

/** An error as the interpreter's Retry and Catch see it: `name` is the error, `message` the cause. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** The context object Lambda passes a handler, for a function that has `timeoutMs` to run. */
export function lambdaContext(functionName: string, functionArn: string, timeoutMs: number, memoryMb = 512) {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Invokes a handler the way Lambda would, and reports a thrown error the way Step Functions reports a Lambda
 * error: the error's name, with a JSON cause holding errorType and errorMessage.
 */
export function lambdaTaskHandler(
  fn: LocalFunction,
  timeoutMs: number,
  crashes?: { plan: CrashPlan; state: string },
  timed?: { state: string; onTiming: (timing: TaskTiming) => void },
): TaskHandler {
  let module: Promise<{ handler: (event: unknown, context: unknown) => Promise<unknown> }> | undefined;
  return async (input) => {
    module ??= import(pathToFileURL(path.join(PROJECT_ROOT, fn.entry)).href);
    const { handler } = await module;
    const context = lambdaContext(fn.logicalId, fn.arn, timeoutMs, fn.memoryMb);
    const startedAt = Date.now();
    try {
      const invocation = { state: crashes?.state ?? '', functionId: fn.logicalId, input };
      const output = await invokeWithCrashes(crashes?.plan, invocation, () => handler(structuredClone(input), context));
      // A JSON round trip, as the payload crosses the wire on AWS: no shared objects between states.
      return JSON.parse(JSON.stringify(output ?? null));
    } catch (error) {
      const e = error as Error;
      throw new TaskError(e.name || 'Error', JSON.stringify({ errorType: e.name, errorMessage: e.message }));
    } finally {
      const index = typeof input?.index === 'number' ? input.index : undefined;
      timed?.onTiming({ state: timed.state, ...(index !== undefined ? { index } : {}), startedAt, endedAt: Date.now() });
    }
  };
}

/** arn:aws:states:::dynamodb:updateItem and friends, with the parameters passed as the API takes them. */
export function dynamoTaskHandler(resource: string): TaskHandler {
  const action = resource.split(':').pop()!;
  const commandName = `${action[0]!.toUpperCase()}${action.slice(1)}Command`;
  const Command = (DynamoDB as unknown as Record<string, new (input: unknown) => any>)[commandName];
  if (!Command) throw new Error(`local runtime: no DynamoDB action ${action} (resource ${resource})`);
  // A plain client: the parameters already hold DynamoDB's typed attribute values ({"S": …}).
  let client: DynamoDB.DynamoDBClient | undefined;
  return async (input) => {
    client ??= new DynamoDB.DynamoDBClient({});
    try {
      const { $metadata: _metadata, ...output } = await client.send(new Command(input));
      return output;
    } catch (error) {
      const e = error as Error;
      throw new TaskError(`DynamoDB.${e.name}`, e.message);
    }
  };
}

async function readObject(bucket: string, key: string): Promise<string> {
  const response = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body!.transformToString();
}

/** ItemReader: the items of the map, read from S3 (JSON array, or CSV with a header row). */
export function itemReaderHandler(emulation: MapEmulation): TaskHandler {
  const config = emulation.itemReader?.ReaderConfig ?? {};
  return async (parameters: { Bucket: string; Key: string }) => {
    let text: string;
    try {
      text = await readObject(parameters.Bucket, parameters.Key);
    } catch (error) {
      throw new TaskError('States.ItemReaderFailed', `cannot read s3://${parameters.Bucket}/${parameters.Key}: ${(error as Error).name}`);
    }
    let items: unknown[];
    if (config.InputType === 'CSV') {
      try {
        items = parseCsvRecords(text, `s3://${parameters.Bucket}/${parameters.Key}`);
      } catch (error) {
        throw new TaskError('States.ItemReaderFailed', (error as Error).message);
      }
    } else {
      items = JSON.parse(text);
      if (!Array.isArray(items)) throw new TaskError('States.ItemReaderFailed', `s3://${parameters.Bucket}/${parameters.Key} does not hold a JSON array`);
    }
    return config.MaxItems ? items.slice(0, config.MaxItems) : items;
  };
}

/**
 * After the map: applies the tolerated failures, writes the results as ResultWriter would
 * (<prefix>/<map run id>/SUCCEEDED_0.json, FAILED_0.json, manifest.json) and gives the map's output.
 */
export function resultWriterHandler(emulation: MapEmulation): TaskHandler {
  return async ({ execution_name, state }: { execution_name: string; state: Record<string, unknown> }) => {
    const { [ITEMS_KEY]: _items, [RESULTS_KEY]: results, ...input } = state;
    const outcomes = childOutcomes(results as unknown[]);
    const failed = outcomes.filter((o) => o.failed);
    if (exceedsTolerance(outcomes, emulation)) {
      const first = failed[0]!.error!;
      throw new TaskError(
        'States.ExceedToleratedFailureThreshold',
        `${failed.length} of ${outcomes.length} items failed, more than the map tolerates; first: ${first.Error}: ${first.Cause}`,
      );
    }

    let mapOutput: unknown = outcomes.map((o) => (o.failed ? o.error : o.output));
    const writer = emulation.resultWriter?.Parameters;
    if (writer) {
      const mapRunId = `${execution_name}-${randomUUID().slice(0, 8)}`;
      const prefix = `${String(writer.Prefix ?? '').replace(/\/$/, '')}/${mapRunId}`;
      const put = (key: string, body: unknown) =>
        s3Client().send(new PutObjectCommand({ Bucket: writer.Bucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json' }));
      const files = [
        { key: `${prefix}/SUCCEEDED_0.json`, entries: outcomes.filter((o) => !o.failed).map((o) => ({ Output: JSON.stringify(o.output), Status: 'SUCCEEDED' })) },
        { key: `${prefix}/FAILED_0.json`, entries: failed.map((o) => ({ Error: o.error!.Error, Cause: o.error!.Cause, Status: 'FAILED' })) },
      ];
      for (const file of files) await put(file.key, file.entries);
      const manifestKey = `${prefix}/manifest.json`;
      await put(manifestKey, {
        DestinationBucket: writer.Bucket,
        MapRunArn: `arn:aws:states:local:map-run:${mapRunId}`,
        ResultFiles: { SUCCEEDED: [{ Key: files[0]!.key, Size: outcomes.length - failed.length }], FAILED: [{ Key: files[1]!.key, Size: failed.length }] },
      });
      mapOutput = { MapRunArn: `arn:aws:states:local:map-run:${mapRunId}`, ResultWriterDetails: { Bucket: writer.Bucket, Key: manifestKey } };
    }
    return applyResultPath(input, emulation.resultPath, mapOutput);
  };
}

/**
 * A local implementation for every Task state of the definition, by state name (how the interpreter looks them
 * up), and the retry waits to use instead of the definition's when `retryIntervalMs` is given. With `crashPlan`,
 * Lambda invocations die as it decides (local/crash-injection.ts).
 */
export function localTaskHandlers(
  definition: { States: Record<string, any> },
  emulations: MapEmulation[],
  functions: LocalFunction[],
  retryIntervalMs?: number,
  crashPlan?: CrashPlan,
  onTiming?: (timing: TaskTiming) => void,
): { taskHandlers: Record<string, TaskHandler>; retryIntervalOverrides: Record<string, number> } {
  const taskHandlers: Record<string, TaskHandler> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const byArn = new Map(functions.map((fn) => [fn.arn, fn]));
  const visit = (states: Record<string, any>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Map') visit((state.ItemProcessor ?? state.Iterator).States);
      if (state.Type === 'Parallel') for (const branch of state.Branches) visit(branch.States);
      if (state.Retry && retryIntervalMs !== undefined) retryIntervalOverrides[name] = retryIntervalMs;
      if (state.Type !== 'Task') continue;
      const reader = emulations.find((e) => e.readerState === name);
      const writer = emulations.find((e) => e.writerState === name);
      const fn = byArn.get(state.Resource);
      if (reader) taskHandlers[name] = itemReaderHandler(reader);
      else if (writer) taskHandlers[name] = resultWriterHandler(writer);
      else if (fn) {
        taskHandlers[name] = lambdaTaskHandler(fn, (state.TimeoutSeconds ?? 60) * 1000, crashPlan && { plan: crashPlan, state: name }, onTiming && { state: name, onTiming });
      }
      else if (/^arn:aws:states:::(aws-sdk:)?dynamodb:/.test(state.Resource)) taskHandlers[name] = dynamoTaskHandler(state.Resource);
      else throw new Error(`local runtime: no local implementation for task ${name} (${state.Resource})`);
    }
  };
  visit(definition.States);
  return { taskHandlers, retryIntervalOverrides };
}
