/**
 * The deadline of the invocation a piece of code runs in, so that waiting (the provider pacing) never outlasts the
 * function. Kept per asynchronous context rather than in a module variable: locally many invocations share a process.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const deadlines = new AsyncLocalStorage<number>();

export function withInvocationDeadline<T>(deadline: number, work: () => T): T {
  return deadlines.run(deadline, work);
}

/** Milliseconds since the epoch; undefined outside a task invocation (an A2A call, a test). */
export function invocationDeadline(): number | undefined {
  return deadlines.getStore();
}
