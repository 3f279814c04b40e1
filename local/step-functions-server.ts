/**
 * A Step Functions endpoint on this machine: it speaks the service's JSON protocol (StartExecution,
 * DescribeExecution) so the submit handler's real SFNClient can start executions, and runs them with
 * aws-local-stepfunctions.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StateMachine } from 'aws-local-stepfunctions';

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

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface LocalExecution {
  executionArn: string;
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

export interface StepFunctionsServerOptions {
  stateMachineArn: string;
  definition: Record<string, any>;
  taskHandlers: Record<string, (input: any) => Promise<any>>;
  retryIntervalOverrides?: Record<string, number>;
}

class ServiceError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export class StepFunctionsServer {
  private readonly machine: StateMachine;
  private readonly executions = new Map<string, LocalExecution>();
  private server?: Server;
  url = '';

  constructor(private readonly options: StepFunctionsServerOptions) {
    this.machine = new StateMachine(options.definition as any, {
      // Local Task resources are placeholders, not real ARNs of an account.
      validationOptions: { checkArn: false },
    });
  }

  async listen(): Promise<string> {
    this.server = createServer(async (request, response) => {
      const target = String(request.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
      try {
        const body = JSON.parse((await readBody(request)) || '{}');
        const result = this.call(target, body);
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

  private call(action: string, body: any): unknown {
    switch (action) {
      case 'StartExecution': {
        const execution = this.start(body.stateMachineArn, body.name, body.input ?? '{}');
        return { executionArn: execution.executionArn, startDate: execution.startDate.getTime() / 1000 };
      }
      case 'DescribeExecution': {
        const execution = this.executions.get(body.executionArn);
        if (!execution) throw new ServiceError('ExecutionDoesNotExist', `no execution ${body.executionArn}`);
        return {
          executionArn: execution.executionArn,
          stateMachineArn: this.options.stateMachineArn,
          name: execution.name,
          status: execution.status,
          startDate: execution.startDate.getTime() / 1000,
          ...(execution.stopDate ? { stopDate: execution.stopDate.getTime() / 1000 } : {}),
          input: execution.input,
          ...(execution.output ? { output: execution.output } : {}),
          ...(execution.error ? { error: execution.error, cause: execution.cause } : {}),
        };
      }
      default:
        throw new ServiceError('UnknownOperationException', `the local Step Functions server does not implement ${action}`);
    }
  }

  /** STANDARD semantics: a name is unique; the same name with the same input returns the existing execution. */
  start(stateMachineArn: string, name: string | undefined, input: string): LocalExecution {
    if (stateMachineArn !== this.options.stateMachineArn) {
      throw new ServiceError('StateMachineDoesNotExist', `no state machine ${stateMachineArn}`);
    }
    const executionName = name ?? crypto.randomUUID();
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.input === input) return existing;
      throw new ServiceError('ExecutionAlreadyExists', `an execution named ${executionName} already exists`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new ServiceError('InvalidExecutionInput', 'the input is not JSON');
    }
    const startDate = new Date();
    const run = this.machine.run(parsed as any, {
      overrides: {
        taskResourceLocalHandlers: this.options.taskHandlers,
        retryIntervalOverrides: this.options.retryIntervalOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: executionName, Input: parsed, StartTime: startDate.toISOString() },
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
    const execution: LocalExecution = {
      executionArn,
      name: executionName,
      input,
      status: 'RUNNING',
      startDate,
      done: undefined as unknown as Promise<LocalExecution>,
    };
    execution.done = run.result.then(
      (output) => Object.assign(execution, { status: 'SUCCEEDED' as const, output: JSON.stringify(output), stopDate: new Date() }),
      (error: any) => {
        // The interpreter wraps the state's error: its `cause` carries the name and cause a console would show.
        const cause = error?.cause ?? error;
        return Object.assign(execution, {
          status: 'FAILED' as const,
          error: cause?.name ?? 'Error',
          cause: cause?.message ?? String(error),
          stopDate: new Date(),
        });
      },
    );
    this.executions.set(executionArn, execution);
    return execution;
  }

  execution(name: string): LocalExecution | undefined {
    return [...this.executions.values()].find((e) => e.name === name);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.executions.values()].map((e) => e.done));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
