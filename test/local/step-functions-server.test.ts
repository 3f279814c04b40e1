/**
 * The local Step Functions endpoint, spoken to by the real SDK client: several machines at once (the synthesized
 * coordinator and company machine, with stand-in tasks), StartSyncExecution, DescribeExecution, StopExecution,
 * the errors the service answers with, and the execution-end hook.
 */
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  InvalidArn,
  SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StateMachineDoesNotExist,
  StateMachineTypeNotSupported,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRequestSchema } from '../../lambdas/core/contracts';
import { extractedRecordSchema } from '../../lambdas/core/contracts';
import { companyRunInput, executionInput } from '../../lambdas/core/job-layout';
import { emulateDistributedMaps } from '../../local/distributed-map';
import { StepFunctionsServer, type LocalExecution, type LocalStateMachineConfig } from '../../local/step-functions-server';
import { TaskError } from '../../local/task-handlers';
import { companyMachineDefinition, coordinatorDefinition, synthesizeTemplate, type LocalStateMachine } from '../../local/template';

type Handlers = Record<string, (input: any) => Promise<any>>;

const SLOW_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:slow';
const request = batchRequestSchema.parse({ companies: ['Acme'], extraction_schema: { type: 'object', properties: { ceo: { type: 'string' } } } });

let coordinator: LocalStateMachine;
let company: LocalStateMachine;

/** Every Task state of a definition, nested ones included. */
function taskStates(definition: Record<string, any>): string[] {
  return Object.entries(definition.States as Record<string, any>).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [name] : []),
    ...(state.ItemProcessor ? taskStates(state.ItemProcessor) : []),
    ...(state.Branches ?? []).flatMap(taskStates),
  ]);
}

/** A stand-in for every task, failing loudly unless the test gives one. */
function handlersFor(definition: Record<string, any>, given: Handlers): Handlers {
  const fallback = (name: string) => async () => {
    throw new Error(`${name} has no stand-in in this test`);
  };
  return Object.fromEntries(taskStates(definition).map((name) => [name, given[name] ?? fallback(name)]));
}

/** The company chain's agents, answering like the real ones in shape. */
const companyAgents: Handlers = {
  Research: async (input) => ({
    research_queries: [`${input.company_name} ceo`],
    search_results_ref: { bucket: 'b', key: 'k', count: 0 },
    sources: [],
    research_notes: 'notes',
    identity: { domain: null, pinned: false, other_entities: [], excluded_pages: 0 },
    usage: input.usage,
  }),
  Extract: async (input) => ({
    ...extractedRecordSchema.parse({ extracted_data: { ceo: 'Jo' }, evidence: { ceo: [{ url: 'https://acme.example', title: 'Acme', excerpt: 'CEO: Jo' }] }, confidence_score: 0.9 }),
    rejected_fields: [],
    usage: input.usage,
  }),
  Reflect: async (input) => ({ is_complete: true, completeness_score: 1, missing_fields: [], follow_up_queries: [], quality_issues: [], usage: input.usage }),
  StoreResult: async (input) => {
    if (input.company_name === 'Broken Storage') throw new TaskError('StorageFailed', 'the bucket is gone');
    return { index: input.index, status: 'completed', counted: true };
  },
};

function client(server: StepFunctionsServer): SFNClient {
  return new SFNClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    disableHostPrefix: true,
  });
}

beforeAll(() => {
  const template = synthesizeTemplate();
  coordinator = coordinatorDefinition(template);
  company = companyMachineDefinition(template);
});

describe('several machines on one endpoint', () => {
  let server: StepFunctionsServer;
  let sfn: SFNClient;
  const ended: LocalExecution[] = [];
  let releaseSlow!: () => void;
  const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));

  beforeAll(async () => {
    const slow = { StartAt: 'Hang', TimeoutSeconds: 1, States: { Hang: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:hang', End: true } } };
    const machines: LocalStateMachineConfig[] = [
      { arn: coordinator.arn, type: 'STANDARD', definition: coordinator.definition, taskHandlers: handlersFor(coordinator.definition, {}) },
      { arn: company.arn, type: 'EXPRESS', definition: company.definition, taskHandlers: handlersFor(company.definition, companyAgents) },
      { arn: SLOW_ARN, type: 'EXPRESS', definition: slow, taskHandlers: { Hang: () => slowGate.then(() => ({})) } },
    ];
    server = new StepFunctionsServer({ stateMachines: machines });
    await server.listen();
    server.onExecutionEnd((execution) => {
      ended.push(execution);
    });
    sfn = client(server);
  });

  afterAll(async () => {
    releaseSlow();
    await server?.close();
  });

  it('runs an EXPRESS execution to its end and answers with all of it', async () => {
    const input = JSON.stringify(companyRunInput('job-1', 0, 'Acme', request));
    const before = new Date();
    const answer = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: company.arn, name: 'job-1', input }));
    expect(answer).toMatchObject({ stateMachineArn: company.arn, name: 'job-1', status: 'SUCCEEDED', input });
    expect(JSON.parse(answer.output!)).toEqual({ index: 0, status: 'completed', counted: true });
    expect(answer.executionArn).toMatch(new RegExp(`^${company.arn.replace(':stateMachine:', ':express:')}:job-1:[0-9a-f-]{36}$`));
    expect(answer.startDate!.getTime()).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
    expect(answer.stopDate!.getTime()).toBeGreaterThanOrEqual(answer.startDate!.getTime());
    expect(answer.error).toBeUndefined();

    const mine = ended.filter((e) => e.executionArn === answer.executionArn);
    expect(mine).toEqual([expect.objectContaining({ status: 'SUCCEEDED', stateMachineType: 'EXPRESS', stateMachineArn: company.arn })]);
  });

  it('lets EXPRESS executions share a name: each start is its own execution', async () => {
    const input = JSON.stringify(companyRunInput('job-2', 0, 'Acme', request));
    const [a, b] = await Promise.all([1, 2].map(() => sfn.send(new StartSyncExecutionCommand({ stateMachineArn: company.arn, name: 'same', input }))));
    expect(a!.status).toBe('SUCCEEDED');
    expect(b!.status).toBe('SUCCEEDED');
    expect(a!.executionArn).not.toBe(b!.executionArn);
  });

  it('answers a failed EXPRESS execution with its error and cause, not with an error of its own', async () => {
    const input = JSON.stringify(companyRunInput('job-3', 0, 'Broken Storage', request));
    const answer = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: company.arn, input }));
    expect(answer).toMatchObject({ status: 'FAILED', error: 'StorageFailed', cause: 'the bucket is gone' });
    expect(answer.output).toBeUndefined();
  });

  it("ends an EXPRESS execution that runs past its machine's TimeoutSeconds as TIMED_OUT", async () => {
    const answer = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: SLOW_ARN, input: '{}' }));
    expect(answer).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(ended.filter((e) => e.executionArn === answer.executionArn).map((e) => e.status)).toEqual(['TIMED_OUT']);
  });

  it('refuses StartSyncExecution on a STANDARD machine, and unknown machines and executions', async () => {
    await expect(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: coordinator.arn, input: '{}' }))).rejects.toBeInstanceOf(
      StateMachineTypeNotSupported,
    );
    const unknown = coordinator.arn.replace(/[^:]+$/, 'no-such-machine');
    await expect(sfn.send(new StartSyncExecutionCommand({ stateMachineArn: unknown, input: '{}' }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: unknown, input: '{}' }))).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    const missing = `${coordinator.arn.replace(':stateMachine:', ':execution:')}:never-started`;
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: missing }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(sfn.send(new StopExecutionCommand({ executionArn: missing }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });

  it('does not describe EXPRESS executions, as the service does not', async () => {
    const answer = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: company.arn, input: JSON.stringify(companyRunInput('job-4', 0, 'Acme', request)) }));
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: answer.executionArn }))).rejects.toBeInstanceOf(InvalidArn);
  });
});

describe('stopping a batch', () => {
  it('aborts the running coordinator at once, starts no further company, and reports the end once', async () => {
    const { definition, emulations } = emulateDistributedMaps(coordinator.definition as any);
    const maxConcurrency = definition.States.ResearchCompanies!.MaxConcurrency as number;
    // One company more than run at once: it would start when the first one finishes.
    const items = Array.from({ length: maxConcurrency + 1 }, (_, index) => ({ index, company_name: `Company ${index}`, domain: null }));
    let stopped = false;
    let researched = 0;
    let researchedAfterStop = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstResearch!: () => void;
    const researching = new Promise<void>((resolve) => (firstResearch = resolve));
    const later: string[] = [];
    const handlers = handlersFor(definition, {
      RecordJob: async () => ({}),
      [emulations[0]!.readerState!]: async () => items,
      Research: async (input) => {
        researched += 1;
        if (stopped) researchedAfterStop += 1;
        firstResearch();
        await gate;
        return companyAgents.Research!(input);
      },
      ...Object.fromEntries(
        ['Extract', 'Reflect', 'StoreResult', 'RecordFailure', 'AssembleResults', 'MarkJobDone', 'MarkJobFailed'].map((name) => [
          name,
          async () => {
            later.push(name);
            return {};
          },
        ]),
      ),
    });
    const server = new StepFunctionsServer({ stateMachines: [{ arn: coordinator.arn, definition, taskHandlers: handlers }] });
    await server.listen();
    const ended: LocalExecution[] = [];
    server.onExecutionEnd((execution) => {
      ended.push(execution);
    });
    const sfn = client(server);

    const input = JSON.stringify(executionInput('job-9', { bucket: 'b', key: 'k' }, request));
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: coordinator.arn, name: 'job-9', input }));
    await researching;
    const { stopDate } = await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Stop', cause: 'stopped by the test' }));
    stopped = true;
    expect(stopDate).toBeInstanceOf(Date);

    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Operator.Stop', cause: 'stopped by the test', stateMachineArn: coordinator.arn });
    expect(described.stopDate).toEqual(stopDate);
    expect(ended.map((e) => [e.executionArn, e.status])).toEqual([[executionArn, 'ABORTED']]);

    // The companies already researching finish their call, as a running Lambda invocation would; nothing follows.
    release();
    await server.close();
    expect(researched).toBeGreaterThan(0);
    expect(researched).toBeLessThanOrEqual(maxConcurrency);
    expect(researchedAfterStop).toBe(0);
    expect(later).toEqual([]);
    expect(ended).toHaveLength(1);
    expect(ended[0]!.status).toBe('ABORTED');
  });
});
