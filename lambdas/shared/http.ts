/** API Gateway proxy responses and the shared wrapper of the HTTP handlers. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { logger, metrics, tracer } from './observability';

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function problem(statusCode: number, error: string, message: string): APIGatewayProxyResult {
  return json(statusCode, { error, message });
}

/**
 * Who is calling: the token's subject, as the API's authorizer (lambdas/handlers/api-authorizer.ts) put it in the
 * request context. Undefined only when a request reached the handler without the authorizer.
 */
export function callerOf(event: APIGatewayProxyEvent): string | undefined {
  const sub = event.requestContext?.authorizer?.sub;
  return typeof sub === 'string' && sub ? sub : undefined;
}

export const NO_CALLER = () => problem(401, 'unauthorized', 'the request carries no verified caller; send Authorization: Bearer <access token>');

/** `emitsMetrics: false` for handlers with nothing to count: Powertools warns on every empty flush. */
export function httpHandler(
  handle: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
  options: { emitsMetrics: boolean } = { emitsMetrics: true },
) {
  const guarded = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    try {
      return await handle(event, context);
    } catch (error) {
      // The caller learns that it failed and can retry; the details stay in the logs.
      logger.error('request failed', { error });
      return problem(500, 'internal_error', 'the request could not be completed; it is safe to retry');
    }
  };
  const wrapped = middy(guarded).use(captureLambdaHandler(tracer)).use(injectLambdaContext(logger));
  return options.emitsMetrics ? wrapped.use(logMetrics(metrics)) : wrapped;
}
