/**
 * A Lambda function URL on this machine: a node:http server that turns each request into the function URL event
 * Lambda would send (payload format 2.0) and runs the function's own handler file in-process. A handler wrapped in
 * `awslambda.streamifyResponse` gets a response stream, as with InvokeMode RESPONSE_STREAM; the Lambda runtime's
 * `awslambda` global is provided here for that.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { PROJECT_ROOT } from '../lib/agent-function';
import { lambdaContext } from './task-handlers';

const STREAMING = Symbol('dossier:streamingHandler');

interface LocalResponseStream {
  setMetadata(metadata: { statusCode: number; headers: Record<string, string> }): void;
  write(chunk: string): boolean;
  end(): void;
}

/** The part of the Lambda Node.js runtime's `awslambda` global that response streaming uses. */
export function installStreamingRuntime(): void {
  // Powertools' invoke store may have created the global already (with InvokeStore only): add to it.
  const g = globalThis as { awslambda?: Record<string, unknown> };
  g.awslambda ??= {};
  if (typeof g.awslambda.streamifyResponse === 'function') return;
  Object.assign(g.awslambda, {
    streamifyResponse(handler: (...args: unknown[]) => unknown) {
      return Object.assign(handler, { [STREAMING]: true });
    },
    HttpResponseStream: {
      from(stream: LocalResponseStream, metadata: { statusCode: number; headers: Record<string, string> }) {
        stream.setMetadata(metadata);
        return stream;
      },
    },
  });
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function functionUrlEvent(request: IncomingMessage, body: string, host: string): LambdaFunctionURLEvent {
  const url = new URL(request.url ?? '/', `http://${host}`);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(',') : value;
  // Lambda sets this for the agent to know its own scheme; here it is plain HTTP.
  headers['x-forwarded-proto'] = 'http';
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    queryStringParameters: url.search ? Object.fromEntries(url.searchParams) : undefined,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0]!,
      http: { method: request.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: request.socket.remoteAddress ?? '127.0.0.1', userAgent: request.headers['user-agent'] ?? '' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body || undefined,
    isBase64Encoded: false,
  };
}

export interface FunctionUrlServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the handler in `entry` (relative to the project root) at a function URL on 127.0.0.1. */
export async function startFunctionUrlServer(options: {
  name: string;
  entry: string;
  timeoutMs: number;
  port?: number;
  /** Load the handler module afresh, as a new Lambda container would (nothing shared in its memory). */
  freshInstance?: boolean;
}): Promise<FunctionUrlServer> {
  installStreamingRuntime();
  const moduleUrl = pathToFileURL(path.join(PROJECT_ROOT, options.entry)).href + (options.freshInstance ? `?instance=${crypto.randomUUID()}` : '');
  const module = (await import(moduleUrl)) as { handler: (...args: unknown[]) => Promise<unknown> };
  const handler = module.handler as ((...args: unknown[]) => Promise<unknown>) & { [STREAMING]?: boolean };
  const running = new Set<Promise<unknown>>();

  const serve = async (request: IncomingMessage, response: ServerResponse, host: string) => {
    const event = functionUrlEvent(request, await readBody(request), host);
    const context = lambdaContext(options.name, `arn:aws:lambda:us-east-1:000000000000:function:${options.name}`, options.timeoutMs);
    if (handler[STREAMING]) {
      const stream: LocalResponseStream = {
        setMetadata: ({ statusCode, headers }) => response.writeHead(statusCode, headers),
        write: (chunk) => response.write(chunk),
        end: () => response.end(),
      };
      // The invocation may go on after the answer ends (Lambda keeps running it); the server waits for it on close.
      await handler(event, stream, context);
      return;
    }
    const result = (await handler(event, context)) as LambdaFunctionURLResult;
    const answer = typeof result === 'object' && result !== null && 'statusCode' in result ? result : { statusCode: 200, body: JSON.stringify(result) };
    response.writeHead(answer.statusCode ?? 200, answer.headers as Record<string, string>);
    response.end(answer.body ?? '');
  };

  const server: Server = createServer((request, response) => {
    const host = request.headers.host ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const invocation = serve(request, response, host).catch((error) => {
      // Lambda answers a handler that throws with a 502 and no details.
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
      if (!response.writableEnded) response.end(JSON.stringify({ message: 'Internal Server Error' }));
      process.stderr.write(`${options.name}: ${(error as Error).stack ?? error}\n`);
    });
    running.add(invocation);
    void invocation.finally(() => running.delete(invocation));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async close() {
      await Promise.allSettled([...running]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
