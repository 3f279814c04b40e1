/**
 * A Step Functions endpoint on this machine: it speaks the service's JSON protocol (StartExecution,
 * StartSyncExecution, DescribeExecution, StopExecution) for several state machines, so handlers' real SFNClients
 * can start and stop executions, and runs them with aws-local-stepfunctions.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';

// aws-local-stepfunctions calls Promise.withResolvers (Node 22); without it every Task fails on Node 20.
if (!(Promise as any).withResolvers) {
  (Promise as any).withResolvers = function withResolvers<T>() {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export type StateMachineType = 'STANDARD' | 'EXPRESS';
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
type TaskHandler = (input: any) => Promise<any>;

export interface LocalExecution {
  executionArn: string;
  stateMachineArn: string;
  /** EventBridge sees only STANDARD executions' status changes; EXPRESS ones report to their caller or logs. */
  stateMachineType: StateMachineType;
  name: string;
  input: string;
  status: ExecutionStatus;
  startDate: Date;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  /** Settles when the execution ends, whatever its outcome. */
  done: Promise<LocalExecution>;
}

export interface LocalStateMachineConfig {
  arn: string;
  /** STANDARD unless given, as in CloudFormation. */
  type?: StateMachineType;
  definition: Record<string, any>;
  /** Local implementations of the Task states, by state name. */
  taskHandlers: Record<string, TaskHandler>;
  retryIntervalOverrides?: Record<string, number>;
}

export type StepFunctionsServerOptions =
  | { stateMachines: LocalStateMachineConfig[] }
  /** One STANDARD machine: the original form. */
  | { stateMachineArn: string; definition: Record<string, any>; taskHandlers: Record<string, TaskHandler>; retryIntervalOverrides?: Record<string, number> };

export type ExecutionEndListener = (execution: LocalExecution) => void | Promise<void>;

/** An error the service answers with: `type` becomes `__type`, which the SDK turns into the error's name. */
export class ServiceError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
    this.name = type;
  }
}

/** Thrown into a Task that a stopped or timed-out execution would still start. */
class ExecutionEndedError extends Error {
  constructor(status: ExecutionStatus) {
    super(`the execution is ${status}; no new work starts`);
    this.name = 'ExecutionEnded';
  }
}

interface LocalMachine {
  config: LocalStateMachineConfig & { type: StateMachineType };
  interpreter: StateMachine;
}

interface Run {
  execution: LocalExecution;
  abort: () => void;
  /** Task handlers still running: a stopped execution's last task finishes, as a Lambda invocation would. */
  inFlight: Set<Promise<unknown>>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const epochSeconds = (date: Date) => date.getTime() / 1000;

export class StepFunctionsServer {
  private readonly machines = new Map<string, LocalMachine>();
  /** STANDARD executions for as long as the server lives (names are unique); EXPRESS ones while they run. */
  private readonly runs = new Map<string, Run>();
  private readonly endListeners = new Set<ExecutionEndListener>();
  /** Work that outlives an execution's end: async listeners, the last tasks of ended EXPRESS executions. */
  private readonly background = new Set<Promise<unknown>>();
  private server?: Server;
  url = '';

  constructor(options: StepFunctionsServerOptions) {
    const configs = 'stateMachines' in options ? options.stateMachines : [{ ...options, arn: options.stateMachineArn }];
    for (const config of configs) {
      this.machines.set(config.arn, {
        config: { ...config, type: config.type ?? 'STANDARD' },
        // Local Task resources are placeholders, not real ARNs of an account.
        interpreter: new StateMachine(withoutWholeStateResultPaths(config.definition) as any, { validationOptions: { checkArn: false } }),
      });
    }
  }

  async listen(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const target = String(request.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
      try {
        const body = JSON.parse((await readBody(request)) || '{}');
        const result = await this.call(target, body);
        response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify(result));
      } catch (error) {
        const e = error instanceof ServiceError ? error : new ServiceError('InternalServerError', (error as Error).message);
        response.writeHead(e.type === 'InternalServerError' ? 500 : 400, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(JSON.stringify({ __type: e.type, message: e.message }));
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Called once with every execution that ends (any machine, any outcome); close() waits for async listeners. */
  onExecutionEnd(listener: ExecutionEndListener): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private async call(action: string, body: any): Promise<unknown> {
    switch (action) {
      case 'StartExecution': {
        const execution = this.start(body.stateMachineArn, body.name, body.input ?? '{}');
        return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
      }
      case 'StartSyncExecution': {
        const execution = await this.startSync(body.stateMachineArn, body.name, body.input ?? '{}');
        return {
          ...describe(execution),
          inputDetails: { included: true },
          ...(execution.output !== undefined ? { outputDetails: { included: true } } : {}),
        };
      }
      case 'DescribeExecution':
        return describe(this.standardRun(body.executionArn).execution);
      case 'StopExecution': {
        const execution = this.stop(body.executionArn, body.error, body.cause);
        return { stopDate: epochSeconds(execution.stopDate!) };
      }
      default:
        throw new ServiceError('UnknownOperationException', `the local Step Functions server does not implement ${action}`);
    }
  }

  private machine(stateMachineArn: string): LocalMachine {
    const machine = this.machines.get(stateMachineArn);
    if (!machine) throw new ServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  /**
   * STANDARD: a name is unique; the same name with the same input returns the existing execution.
   * EXPRESS (asynchronous): every start is a new execution, names may repeat.
   */
  start(stateMachineArn: string, name: string | undefined, input: string): LocalExecution {
    const machine = this.machine(stateMachineArn);
    const executionName = name ?? crypto.randomUUID();
    if (machine.config.type === 'EXPRESS') return this.launch(machine, executionName, input).execution;
    const existing = this.runs.get(standardExecutionArn(stateMachineArn, executionName));
    if (existing) {
      if (existing.execution.input === input) return existing.execution;
      throw new ServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${existing.execution.executionArn}'`);
    }
    return this.launch(machine, executionName, input).execution;
  }

  /** EXPRESS only: runs the execution to its end and answers with it, whatever its outcome. */
  async startSync(stateMachineArn: string, name: string | undefined, input: string): Promise<LocalExecution> {
    const machine = this.machine(stateMachineArn);
    if (machine.config.type !== 'EXPRESS') {
      throw new ServiceError('StateMachineTypeNotSupported', 'This operation is not supported by this type of state machine');
    }
    return this.launch(machine, name ?? crypto.randomUUID(), input).execution.done;
  }

  /** Ends a running STANDARD execution as ABORTED at once; the task it is in finishes, no further state starts. */
  stop(executionArn: string, error?: string, cause?: string): LocalExecution {
    const run = this.standardRun(executionArn);
    // An execution that has already ended stays as it ended.
    if (run.execution.status !== 'RUNNING') return run.execution;
    this.end(run.execution, { status: 'ABORTED', ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) });
    run.abort();
    return run.execution;
  }

  /** The STANDARD execution with this ARN; EXPRESS executions cannot be described or stopped, as on AWS. */
  private standardRun(executionArn: string): Run {
    if (/^arn:aws:states:[^:]*:[^:]*:express:/.test(String(executionArn))) {
      throw new ServiceError('InvalidArn', "Invalid Arn: 'Resource type not valid in this context: express'");
    }
    const run = this.runs.get(executionArn);
    if (!run) throw new ServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return run;
  }

  private launch(machine: LocalMachine, name: string, input: string): Run {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not JSON');
    }
    const { arn: stateMachineArn, type } = machine.config;
    const executionArn =
      type === 'EXPRESS' ? expressExecutionArn(stateMachineArn, name) : standardExecutionArn(stateMachineArn, name);
    const execution: LocalExecution = {
      executionArn,
      stateMachineArn,
      stateMachineType: type,
      name,
      input,
      status: 'RUNNING',
      startDate: new Date(),
      done: undefined as unknown as Promise<LocalExecution>,
    };
    const inFlight = new Set<Promise<unknown>>();
    // Handlers for this execution only: the interpreter lets a stopped run's Map items and branches each start one
    // more state before it notices the abort; here that state fails at once instead of doing its work.
    const taskHandlers = Object.fromEntries(
      Object.entries(machine.config.taskHandlers).map(([state, handler]) => [
        state,
        (taskInput: unknown) => {
          if (execution.status !== 'RUNNING') return Promise.reject(new ExecutionEndedError(execution.status));
          const work = Promise.resolve(handler(taskInput));
          inFlight.add(work);
          const forget = () => inFlight.delete(work);
          work.then(forget, forget);
          return work;
        },
      ]),
    );
    const run = machine.interpreter.run(parsed as any, {
      overrides: { taskResourceLocalHandlers: taskHandlers, retryIntervalOverrides: machine.config.retryIntervalOverrides },
      context: {
        Execution: { Id: executionArn, Name: name, Input: parsed, StartTime: execution.startDate.toISOString() },
        StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
        // The interpreter does not fill $$.State; a getter answers with the time the path is read,
        // which is when the state is entered.
        State: {
          get EnteredTime() {
            return new Date().toISOString();
          },
        },
      } as any,
    });
    execution.done = run.result.then(
      (output) => (execution.status === 'RUNNING' ? this.end(execution, { status: 'SUCCEEDED', output: JSON.stringify(output) }) : execution),
      (error: any) => {
        // Stopped: StopExecution has already ended it.
        if (execution.status !== 'RUNNING') return execution;
        if (error instanceof ExecutionTimeoutError) {
          return this.end(execution, { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than the state machine allows (TimeoutSeconds)' });
        }
        // The interpreter wraps the state's error: its `cause` carries the name and cause a console would show.
        const cause = error?.cause ?? error;
        return this.end(execution, { status: 'FAILED', error: cause?.name ?? 'Error', cause: cause?.message ?? String(error) });
      },
    );
    // The interpreter queues every event of the execution, its Map children's included (each with the state's input
    // and output), until someone reads them; nothing here does, so read and drop them or a big batch holds them all.
    void discardEvents(run.eventLogs);
    const entry: Run = { execution, abort: run.abort, inFlight };
    this.runs.set(executionArn, entry);
    return entry;
  }

  private end(execution: LocalExecution, outcome: Pick<LocalExecution, 'status' | 'output' | 'error' | 'cause'>): LocalExecution {
    Object.assign(execution, outcome, { stopDate: new Date() });
    if (execution.stateMachineType === 'EXPRESS') {
      // Nothing can ask about an EXPRESS execution afterwards; keep only its in-flight work for close() to wait on.
      const run = this.runs.get(execution.executionArn);
      this.runs.delete(execution.executionArn);
      if (run?.inFlight.size) this.track(drain(run.inFlight));
    }
    // Before `done` settles, so whoever awaits an execution sees its listeners called.
    for (const listener of this.endListeners) {
      let result: unknown;
      try {
        result = listener(execution);
      } catch (error) {
        console.error('local Step Functions: an execution-end listener failed', error);
      }
      if (result instanceof Promise) {
        const work = result.catch((error) => console.error('local Step Functions: an execution-end listener failed', error));
        this.track(work);
        // settled() waits for them too: what the end of an execution sets off (the EventBridge rule's target) is done.
        const run = this.runs.get(execution.executionArn);
        if (run) {
          run.inFlight.add(work);
          void work.then(() => run.inFlight.delete(work));
        }
      }
    }
    return execution;
  }

  private track(work: Promise<unknown>): void {
    this.background.add(work);
    const forget = () => this.background.delete(work);
    work.then(forget, forget);
  }

  /**
   * The execution once it has ended and the tasks it was still in have finished: after StopExecution a task's
   * Lambda invocation runs to its end (a company's storage step stores and counts), so what it wrote is all there;
   * and once its end-of-execution listeners have run.
   */
  async settled(execution: LocalExecution): Promise<LocalExecution> {
    await execution.done;
    const run = this.runs.get(execution.executionArn);
    if (run) await drain(run.inFlight);
    return execution;
  }

  /** The execution with this name (on this machine, when given); the latest one for a repeated EXPRESS name. */
  execution(name: string, stateMachineArn?: string): LocalExecution | undefined {
    return [...this.runs.values()]
      .map((r) => r.execution)
      .filter((e) => e.name === name && (!stateMachineArn || e.stateMachineArn === stateMachineArn))
      .pop();
  }

  /** Waits for running executions, for the tasks stopped ones were still in, and for async listeners. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.runs.values()].map((r) => r.execution.done));
    await Promise.all([...this.runs.values()].map((r) => drain(r.inFlight)));
    while (this.background.size) await Promise.allSettled([...this.background]);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * aws-local-stepfunctions 3.0.0 reads ResultPath "$" as a key named "$" (the result is added beside the input
 * instead of replacing it). "$" is also the default, so leaving it out means the same on AWS and works here.
 */
export function withoutWholeStateResultPaths<T>(definition: T): T {
  const copy = structuredClone(definition) as any;
  const visit = (machine: { States: Record<string, any> }) => {
    for (const state of Object.values(machine.States)) {
      if (state.ResultPath === '$') delete state.ResultPath;
      for (const catcher of state.Catch ?? []) if (catcher.ResultPath === '$') delete catcher.ResultPath;
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) visit(processor);
      for (const branch of state.Branches ?? []) visit(branch);
    }
  };
  visit(copy);
  return copy;
}

async function discardEvents(events: AsyncIterable<unknown>): Promise<void> {
  for await (const _event of events);
}

async function drain(inFlight: Set<Promise<unknown>>): Promise<void> {
  while (inFlight.size) await Promise.allSettled([...inFlight]);
}

function standardExecutionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** EXPRESS names may repeat, so AWS adds an id: arn:…:express:<machine>:<name>:<id>. */
function expressExecutionArn(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':express:')}:${name}:${crypto.randomUUID()}`;
}

/** The fields DescribeExecution and StartSyncExecution answer with. */
function describe(execution: LocalExecution) {
  return {
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    ...(execution.stopDate ? { stopDate: epochSeconds(execution.stopDate) } : {}),
    input: execution.input,
    ...(execution.output !== undefined ? { output: execution.output } : {}),
    ...(execution.error !== undefined ? { error: execution.error } : {}),
    ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
  };
}
