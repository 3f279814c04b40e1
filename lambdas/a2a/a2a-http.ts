/**
 * An A2A agent over HTTP, independent of where it runs: a Lambda function URL (buffered or streamed) and the
 * local `npm run serve` both hand it a plain request and write out what it answers.
 *   GET  /.well-known/agent-card.json (and the older /.well-known/agent.json)  the card; public
 *   POST /                                                                      JSON-RPC; bearer token required
 * A request with `A2A-Version: 1.x` speaks v1.0; one without the header is v0.3 and goes through the SDK's
 * compatibility layer.
 */
import { A2A_VERSION_HEADER, formatSSEErrorEvent, formatSSEEvent, type AgentCard } from '@a2a-js/sdk';
import { LegacyJsonRpcTransportHandler } from '@a2a-js/sdk/compat/v0_3/server';
import { ContentTypeNotSupportedError } from '@a2a-js/sdk/errors';
import {
  JsonRpcTransportHandler,
  ServerCallContext,
  validateVersion,
  type A2ARequestHandler,
} from '@a2a-js/sdk/server';
import { AuthError, AuthenticatedUser, wwwAuthenticate, type TokenVerifier } from '../shared/identity';
import { SCOPES } from '../core/scopes';
import { A2A_LEGACY_PROTOCOL_VERSION } from './agent-card';

export interface HttpRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  body?: string;
}

export type HttpResponse =
  | { status: number; headers: Record<string, string>; body: string }
  | { status: number; headers: Record<string, string>; stream: AsyncIterable<string> };

export const CARD_PATHS = ['/.well-known/agent-card.json', '/.well-known/agent.json'];

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' };

export interface A2aEndpoint {
  /** The agent's request handler (the SDK's DefaultRequestHandler with Dossier's stores and executor). */
  requestHandler: A2ARequestHandler;
  /** The card in v1.0 protocol JSON and in the v0.3 shape, for the URL the agent is reached at. */
  cards: { v1: unknown; legacy: unknown };
  verifier: TokenVerifier;
  /** Where SDK and handler errors are reported; never with a token. */
  onError?: (message: string, error: unknown) => void;
}

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function rpcError(id: unknown, code: number, message: string): HttpResponse {
  return jsonResponse(200, { jsonrpc: '2.0', id: id ?? null, error: { code, message } });
}

function isLegacy(version: string | undefined): boolean {
  return (version ?? A2A_LEGACY_PROTOCOL_VERSION).startsWith('0.');
}

export async function handleA2aRequest(endpoint: A2aEndpoint, request: HttpRequest): Promise<HttpResponse> {
  const version = request.headers[A2A_VERSION_HEADER.toLowerCase()]?.trim() || undefined;

  if (CARD_PATHS.includes(request.path)) {
    if (request.method !== 'GET' && request.method !== 'HEAD') return jsonResponse(405, { error: 'method_not_allowed', message: 'the card is read with GET' }, { allow: 'GET' });
    return jsonResponse(200, isLegacy(version) ? endpoint.cards.legacy : endpoint.cards.v1, {
      'cache-control': 'public, max-age=300',
      vary: A2A_VERSION_HEADER,
    });
  }
  if (request.path !== '/') return jsonResponse(404, { error: 'not_found', message: `no route ${request.path}; the card is at ${CARD_PATHS[0]}, JSON-RPC at /` });
  if (request.method !== 'POST') return jsonResponse(405, { error: 'method_not_allowed', message: 'JSON-RPC requests are POSTed to /' }, { allow: 'POST' });

  // Authentication first: an unauthenticated caller learns nothing about the request's validity.
  let user: AuthenticatedUser;
  try {
    user = new AuthenticatedUser(await endpoint.verifier.verify(request.headers.authorization, SCOPES.research));
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
    return jsonResponse(error.status, { error: error.code, error_description: error.description }, { 'www-authenticate': wwwAuthenticate(error) });
  }

  const legacy = isLegacy(version);
  const mapError = legacy ? LegacyJsonRpcTransportHandler.mapToLegacyJSONRPCError : JsonRpcTransportHandler.mapToJSONRPCError;
  const contentType = request.headers['content-type']?.split(';', 1)[0]!.trim().toLowerCase();
  if (contentType && contentType !== 'application/json' && contentType !== 'application/a2a+json') {
    return jsonResponse(200, { jsonrpc: '2.0', id: null, error: mapError(new ContentTypeNotSupportedError(`Content-Type ${contentType} is not supported; send application/json`)) });
  }
  let body: unknown;
  try {
    body = JSON.parse(request.body ?? '');
  } catch {
    return rpcError(null, -32700, 'Parse error: the request body is not valid JSON');
  }
  const id = body && typeof body === 'object' && !Array.isArray(body) ? (body as { id?: unknown }).id : undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return rpcError(null, -32600, 'Invalid Request: the body must be one JSON-RPC request object (batches are not supported)');
  }

  const envelope = body as { jsonrpc?: unknown; method?: unknown };
  if (envelope.jsonrpc !== '2.0' || typeof envelope.method !== 'string') {
    return rpcError(id, -32600, 'Invalid Request: "jsonrpc" must be "2.0" and "method" a string');
  }

  const context = new ServerCallContext({ user, requestedVersion: version });
  try {
    const card: AgentCard = await endpoint.requestHandler.getAgentCard();
    validateVersion(context.requestedVersion, card, 'JSONRPC');
    const transport = legacy ? new LegacyJsonRpcTransportHandler(endpoint.requestHandler) : new JsonRpcTransportHandler(endpoint.requestHandler);
    const result = await transport.handle(body as Record<string, unknown>, context);
    if (!(result && typeof (result as any)[Symbol.asyncIterator] === 'function')) return jsonResponse(200, result);

    // A stream: the first event decides between an SSE answer and a plain JSON-RPC error.
    const iterator = (result as AsyncGenerator<unknown>)[Symbol.asyncIterator]();
    let first: IteratorResult<unknown>;
    try {
      first = await iterator.next();
    } catch (error) {
      return jsonResponse(200, { jsonrpc: '2.0', id: id ?? null, error: mapError(error) });
    }
    const onError = endpoint.onError;
    async function* events(): AsyncGenerator<string> {
      try {
        if (!first.done) yield formatSSEEvent(first.value);
        while (true) {
          const next = await iterator.next();
          if (next.done) return;
          yield formatSSEEvent(next.value);
        }
      } catch (error) {
        onError?.('stream failed', error);
        yield formatSSEErrorEvent({ jsonrpc: '2.0', id: id ?? null, error: mapError(error) });
      }
    }
    return { status: 200, headers: SSE_HEADERS, stream: events() };
  } catch (error) {
    const mapped = mapError(error);
    if (mapped.code === -32603) endpoint.onError?.('request failed', error);
    return jsonResponse(mapped.code === -32603 ? 500 : 200, { jsonrpc: '2.0', id: id ?? null, error: mapped });
  }
}

/** Collects a streamed answer into one body, for transports that cannot stream (a BUFFERED function URL). */
export async function buffered(response: HttpResponse): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  if ('body' in response) return response;
  let body = '';
  for await (const chunk of response.stream) body += chunk;
  return { status: response.status, headers: response.headers, body };
}
