/**
 * Crash injection, on its own: an invocation planned to die dies where it was planned to and fails the way a crashed
 * Lambda runtime fails a task; crash points do nothing unless the local runtime has made them live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { crashPoint } from '../../lambdas/shared/crash-point';
import { activateCrashPoints, crashAtRate, invokeWithCrashes, type CrashPlan, type CrashStage } from '../../local/crash-injection';
import { LAMBDA_CRASH_ERRORS } from '../../lib/lambda-errors';

const invocation = { state: 'StoreResult', functionId: 'Storage', input: { index: 0 } };
const always = (stage: CrashStage): CrashPlan => () => stage;

/** A handler with a crash point between two steps, recording which steps ran. */
function handlerWithCrashPoint() {
  const ran: string[] = [];
  return {
    ran,
    run: async () => {
      ran.push('write');
      await crashPoint('company-result-written');
      ran.push('count');
      return 'done';
    },
  };
}

let deactivate: (() => void) | undefined;
afterEach(() => {
  deactivate?.();
  deactivate = undefined;
});

describe('invokeWithCrashes', () => {
  it('runs the handler untouched when the plan spares the invocation', async () => {
    deactivate = activateCrashPoints();
    const handler = handlerWithCrashPoint();
    await expect(invokeWithCrashes(() => undefined, invocation, handler.run)).resolves.toBe('done');
    expect(handler.ran).toEqual(['write', 'count']);
  });

  it('dies before the handler runs, as Runtime.ExitError (an error the task retries)', async () => {
    deactivate = activateCrashPoints();
    const handler = handlerWithCrashPoint();
    const outcome = invokeWithCrashes(always('start'), invocation, handler.run);
    await expect(outcome).rejects.toMatchObject({ name: 'Runtime.ExitError', message: expect.stringMatching(/Runtime exited with error/) });
    expect(LAMBDA_CRASH_ERRORS).toContain('Runtime.ExitError');
    expect(handler.ran).toEqual([]);
  });

  it('dies at the crash point: what came before it is done, what comes after never runs', async () => {
    deactivate = activateCrashPoints();
    const handler = handlerWithCrashPoint();
    await expect(invokeWithCrashes(always('checkpoint'), invocation, handler.run)).rejects.toMatchObject({
      name: 'Runtime.ExitError',
      message: expect.stringContaining('company-result-written'),
    });
    // The rejection comes from the crash; the handler is left suspended at its crash point for good.
    expect(handler.ran).toEqual(['write']);
  });

  it('dies after the handler finished all its work, before answering', async () => {
    deactivate = activateCrashPoints();
    const handler = handlerWithCrashPoint();
    await expect(invokeWithCrashes(always('end'), invocation, handler.run)).rejects.toMatchObject({ name: 'Runtime.ExitError' });
    expect(handler.ran).toEqual(['write', 'count']);
  });

  it('leaves crash points inert in invocations not planned to die there, and when not activated', async () => {
    deactivate = activateCrashPoints();
    const spared = handlerWithCrashPoint();
    await invokeWithCrashes(undefined, invocation, spared.run);
    expect(spared.ran).toEqual(['write', 'count']);
    deactivate();
    deactivate = undefined;
    const outside = handlerWithCrashPoint();
    await expect(outside.run()).resolves.toBe('done');
    expect(outside.ran).toEqual(['write', 'count']);
  });
});

describe('crashAtRate', () => {
  it('spares an invocation when the draw is at or above the rate, and otherwise picks a stage from the next draw', () => {
    const draws = (...values: number[]) => () => values.shift()!;
    expect(crashAtRate(0.02, draws(0.02))(invocation)).toBeUndefined();
    expect(crashAtRate(0.02, draws(0.01, 0))(invocation)).toBe('start');
    expect(crashAtRate(0.02, draws(0.01, 0.5))(invocation)).toBe('checkpoint');
    expect(crashAtRate(0.02, draws(0.01, 0.99))(invocation)).toBe('end');
    expect(crashAtRate(0)(invocation)).toBeUndefined();
  });
});
