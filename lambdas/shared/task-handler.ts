/** The wrapper every state-machine task handler shares: validate the payload, run the core, observe it. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { describeZodError, type Usage } from '../core/contracts';
import { addUsage } from '../core/usage';
import { withInvocationDeadline } from './invocation-deadline';
import { logger, metrics, tracer } from './observability';

/** A payload the handler cannot accept. Not retried: the same payload fails the same way. */
export class InvalidTaskInput extends Error {
  override readonly name = 'InvalidTaskInput';
}

/** The job and the company a payload is about, as far as it says: every log line of the task carries them. */
export function correlationKeysOf(event: unknown): { job_id?: string; index?: number } {
  if (!event || typeof event !== 'object') return {};
  const { job_id, index } = event as Record<string, unknown>;
  return {
    ...(typeof job_id === 'string' && job_id ? { job_id } : {}),
    ...(typeof index === 'number' && Number.isInteger(index) ? { index } : {}),
  };
}

/**
 * What a chain step's payload adds to the agent's own contract (the one its A2A skill takes): the job and company
 * the state machine runs it for, so the step's log lines carry them. The handler drops them before the core runs.
 */
export const CHAIN_STEP_FIELDS = { job_id: z.string().min(1), index: z.number().int().nonnegative() };

export function taskHandler<S extends z.ZodType, R>(inputSchema: S, run: (input: z.output<S>, context: Context) => Promise<R>) {
  const handle = async (event: unknown, context: Context): Promise<R> => {
    // Read from the raw event, so even a payload that fails its contract is logged with its job.
    logger.appendKeys(correlationKeysOf(event));
    const parsed = inputSchema.safeParse(event);
    if (!parsed.success) throw new InvalidTaskInput(describeZodError(parsed.error));
    try {
      // What the function has left, for code that waits (provider pacing) to stop in time.
      const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
      if (remaining === undefined) return await run(parsed.data, context);
      return await withInvocationDeadline(Date.now() + remaining, () => run(parsed.data, context));
    } catch (error) {
      // The providers stay free of Powertools; a throttle is counted here, once per failed attempt the state
      // machine will retry, so the dashboard and the alarm see rate limits before they fail companies.
      if ((error as Error | undefined)?.name === 'ProviderThrottled') metrics.addMetric('ProviderThrottled', 'Count', 1);
      throw error;
    }
  };
  return middy(handle)
    .use(captureLambdaHandler(tracer))
    // resetKeys: the job's keys are dropped after each invocation, so a warm container never logs the last job's.
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

/**
 * A task's run whose output carries the Lambda time it took in its usage (memory × duration, what Lambda bills):
 * for the agents whose time is measured (research, extraction); the chain's other steps are estimated (pricing.ts).
 */
export function measuringLambdaTime<I, R extends { usage: Usage }>(run: (input: I, context: Context) => Promise<R>) {
  return async (input: I, context: Context): Promise<R> => {
    const started = Date.now();
    const output = await run(input, context);
    const gbSeconds = (Number(context.memoryLimitInMB) / 1024) * (Math.max(0, Date.now() - started) / 1000);
    return { ...output, usage: addUsage(output.usage, { lambda_gb_seconds: Math.round(gbSeconds * 1_000_000) / 1_000_000 }) };
  };
}
