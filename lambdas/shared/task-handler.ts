/** The wrapper every state-machine task handler shares: validate the payload, run the core, observe it. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { describeZodError } from '../core/contracts';
import { logger, metrics, tracer } from './observability';

/** A payload the handler cannot accept. Not retried: the same payload fails the same way. */
export class InvalidTaskInput extends Error {
  override readonly name = 'InvalidTaskInput';
}

export function taskHandler<S extends z.ZodType, R>(inputSchema: S, run: (input: z.output<S>, context: Context) => Promise<R>) {
  const handle = async (event: unknown, context: Context): Promise<R> => {
    const parsed = inputSchema.safeParse(event);
    if (!parsed.success) throw new InvalidTaskInput(describeZodError(parsed.error));
    return run(parsed.data, context);
  };
  return middy(handle)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics));
}
