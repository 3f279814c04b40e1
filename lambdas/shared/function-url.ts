/**
 * Lambda function URLs in front of an A2A agent. A function URL event becomes a plain HttpRequest for
 * lambdas/a2a/a2a-http.ts; the answer goes back whole (BUFFERED) or as it is produced (RESPONSE_STREAM, through
 * the Lambda runtime's `awslambda.streamifyResponse`). Either way the invocation lasts until the agent is idle:
 * a task answered early (returnImmediately) still finishes, and its push notifications are sent.
 */
import type { Context, LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { buffered, type HttpRequest } from '../a2a/a2a-http';
import type { A2aAgent } from '../a2a/a2a-agent';
import { config } from './config';
import { logger, metrics } from './observability';

export function isFunctionUrlEvent(event: unknown): event is LambdaFunctionURLEvent {
  const e = event as Partial<LambdaFunctionURLEvent> | null;
  return !!e && typeof e === 'object' && typeof e.rawPath === 'string' && !!e.requestContext?.http;
}

export function httpRequestOf(event: LambdaFunctionURLEvent): HttpRequest {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return { method: event.requestContext.http.method.toUpperCase(), path: event.rawPath || '/', headers, body };
}

/** The agent's public URL: the function URL the request came to (Lambda sets x-forwarded-proto), unless configured. */
export function publicUrlOf(event: LambdaFunctionURLEvent): string {
  const configured = config.agentPublicUrl;
  if (configured) return configured.replace(/\/$/, '');
  const proto = event.headers?.['x-forwarded-proto'] ?? 'https';
  return `${proto}://${event.requestContext.domainName}`;
}

/** What the skills counted during this invocation (the task door flushes through its middy middleware). */
function flushMetrics(): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}

export function bufferedFunctionUrlHandler(agent: () => A2aAgent) {
  return async (event: LambdaFunctionURLEvent, _context?: Context): Promise<LambdaFunctionURLResult> => {
    const a2a = agent();
    try {
      const response = await buffered(await a2a.handle(httpRequestOf(event), publicUrlOf(event)));
      await a2a.idle();
      return { statusCode: response.status, headers: response.headers, body: response.body };
    } finally {
      flushMetrics();
    }
  };
}

/** What the Lambda Node.js runtime provides for response streaming (and `npm run serve` provides locally). */
interface ResponseStream {
  write(chunk: string): unknown;
  end(): unknown;
}
interface StreamingRuntime {
  streamifyResponse(handler: (event: any, stream: ResponseStream, context: Context) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: ResponseStream, metadata: { statusCode: number; headers: Record<string, string> }): ResponseStream };
}

export function streamingFunctionUrlHandler(agent: () => A2aAgent) {
  const runtime = (globalThis as { awslambda?: Partial<StreamingRuntime> }).awslambda;
  // Outside a streaming runtime (tests that load the bundle) the same agent answers buffered.
  if (typeof runtime?.streamifyResponse !== 'function' || !runtime.HttpResponseStream) return bufferedFunctionUrlHandler(agent);
  const streaming = runtime as StreamingRuntime;
  return streaming.streamifyResponse(async (event: LambdaFunctionURLEvent, responseStream: ResponseStream) => {
    const a2a = agent();
    try {
      const response = await a2a.handle(httpRequestOf(event), publicUrlOf(event));
      const out = streaming.HttpResponseStream.from(responseStream, { statusCode: response.status, headers: response.headers });
      if ('body' in response) out.write(response.body);
      else for await (const chunk of response.stream) out.write(chunk);
      out.end();
    } catch (error) {
      logger.error('A2A request failed', { error });
      const out = streaming.HttpResponseStream.from(responseStream, { statusCode: 500, headers: { 'content-type': 'application/json' } });
      out.write(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } }));
      out.end();
    }
    // The caller has its answer; work it started (a task answered early, push notifications) finishes first.
    await a2a.idle();
    flushMetrics();
  });
}

/**
 * One function, two doors: the state machine invokes it with a task payload, an A2A client through its function
 * URL. Both run the same skill code.
 */
export function agentEntry<T>(doors: { task: (event: any, context: Context) => Promise<T>; a2a: (event: LambdaFunctionURLEvent, context: Context) => Promise<LambdaFunctionURLResult> }) {
  return (event: unknown, context: Context) => (isFunctionUrlEvent(event) ? doors.a2a(event, context) : doors.task(event, context));
}
