/** API Gateway proxy responses and the shared wrapper of the HTTP handlers. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { describeZodError, type ExtractionSchema } from '../core/contracts';
import { schemaProblem } from '../core/json-schema';
import type { QuotaRefusal } from '../core/quotas';
import { logger, metrics, tracer } from './observability';
import { checkRateLimit } from './quotas';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
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

/**
 * A research request's body checked against its contract: the request, or the answer that says what is wrong
 * (400 naming the field and the problem; 413 for a schema that is only too big; 400 for a schema that cannot compile).
 */
export function parseResearchRequest<S extends z.ZodType<{ extraction_schema: ExtractionSchema }>>(
  event: APIGatewayProxyEvent,
  contract: S,
): { request: z.output<S> } | { refused: APIGatewayProxyResult } {
  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    return { refused: problem(400, 'invalid_json', 'the request body must be a JSON object') };
  }
  const parsed = contract.safeParse(body);
  if (!parsed.success) {
    // The contract measures the schema (MAX_SCHEMA_BYTES, with its $refs inlined): a schema that is only too big is 413.
    const issues = parsed.error.issues;
    if (issues.every((issue) => issue.code === 'too_big' && issue.origin === 'bytes')) {
      return { refused: problem(413, 'schema_too_large', issues.map((issue) => issue.message).join('; ')) };
    }
    return { refused: problem(400, 'invalid_request', describeZodError(parsed.error)) };
  }
  const schemaError = schemaProblem(parsed.data.extraction_schema);
  if (schemaError) return { refused: problem(400, 'invalid_schema', schemaError) };
  return { request: parsed.data };
}

/** 429 for a quota: `{error, message}`, and Retry-After (seconds) when waiting helps. */
export function refusedByQuota(refusal: QuotaRefusal): APIGatewayProxyResult {
  const retryAfter: Record<string, string> = refusal.retryAfterSeconds === undefined ? {} : { 'retry-after': String(refusal.retryAfterSeconds) };
  return json(429, { error: refusal.error, message: refusal.message }, retryAfter);
}

export const NO_CALLER = () => problem(401, 'unauthorized', 'the request carries no verified caller; send Authorization: Bearer <access token>');

/** `emitsMetrics: false` for handlers with nothing to count: Powertools warns on every empty flush. */
export function httpHandler(
  handle: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>,
  options: { emitsMetrics: boolean } = { emitsMetrics: true },
) {
  const guarded = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    try {
      // Every route counts against its caller's rate; a request without a caller is refused by the handler anyway.
      const caller = callerOf(event);
      const limited = caller ? await checkRateLimit(caller) : undefined;
      if (limited) return refusedByQuota(limited);
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
