/**
 * Crashed Lambda runtimes, on purpose: a Lambda task invocation can be made to die before its handler runs, at a
 * crash point inside it (lambdas/shared/crash-point.ts, e.g. between a result's S3 write and its count), or after
 * its handler finished but before it answered. The task then fails as a crashed function does on AWS, with
 * Runtime.ExitError, and the state machine's Retry decides what happens next. Benchmarks and tests only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { installCrashHook } from '../lambdas/shared/crash-point';
import { RUNTIME_EXIT_ERROR } from '../lib/lambda-errors';

/** Where an invocation dies: before its handler, at the first crash point it reaches, or after it returned. */
export type CrashStage = 'start' | 'checkpoint' | 'end';

/** One Lambda task invocation, as a crash plan sees it. */
export interface TaskInvocation {
  /** The Task state's name. */
  state: string;
  /** The function's logical id in the template. */
  functionId: string;
  /** The payload the handler gets. */
  input: any;
}

/** Decides for each invocation whether it dies, and where. */
export type CrashPlan = (invocation: TaskInvocation) => CrashStage | undefined;

const STAGES: readonly CrashStage[] = ['start', 'checkpoint', 'end'];

/** Kills `rate` (0–1) of all invocations, each at a stage chosen at random. */
export function crashAtRate(rate: number, random: () => number = Math.random): CrashPlan {
  return () => (random() < rate ? STAGES[Math.floor(random() * STAGES.length)] : undefined);
}

/** What a task sees of a runtime that exited: Lambda's errorType, and a message shaped like Lambda's. */
export class InjectedCrash extends Error {
  override readonly name = RUNTIME_EXIT_ERROR;
  constructor(where: string) {
    super(`RequestId: ${randomUUID()} Error: Runtime exited with error: exit status 1 (crash injected ${where})`);
  }
}

/** The invocation a crash point is reached in, when that invocation is meant to die at one. */
const dyingAtCheckpoint = new AsyncLocalStorage<{ die(point: string): void }>();

/**
 * Makes crash points live for as long as crash plans are in use; returns the undo. A crash point reached inside an
 * invocation planned to die there kills it; anywhere else it does nothing.
 */
export function activateCrashPoints(): () => void {
  installCrashHook((point) => {
    const invocation = dyingAtCheckpoint.getStore();
    if (!invocation) return undefined;
    invocation.die(point);
    // A dead process runs nothing more: the rest of the handler never resumes.
    return new Promise<never>(() => undefined);
  });
  return () => installCrashHook(undefined);
}

/** Runs one invocation under the plan (no plan: just runs it). */
export async function invokeWithCrashes<T>(plan: CrashPlan | undefined, invocation: TaskInvocation, run: () => Promise<T>): Promise<T> {
  const stage = plan?.(invocation);
  if (stage === undefined) return run();
  if (stage === 'start') throw new InjectedCrash(`in ${invocation.state} before its handler ran`);
  if (stage === 'checkpoint') {
    let die!: (error: Error) => void;
    const died = new Promise<never>((_, reject) => (die = reject));
    await Promise.race([
      dyingAtCheckpoint.run({ die: (point) => die(new InjectedCrash(`in ${invocation.state} at ${point}`)) }, run),
      died,
    ]);
    // It reached no crash point: it dies having done all its work, as at the end.
  } else {
    await run();
  }
  throw new InjectedCrash(`in ${invocation.state} after its handler returned`);
}
