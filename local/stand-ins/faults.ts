import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createStandInLimiter, refusalHeaders, type StandInLimits } from './rate-limits';

/**
 * Makes a stand-in fail on purpose: a request whose raw JSON body contains `match`
 * (case-insensitive; '' matches every request) gets `status`, `times` times, or always when `times` is undefined;
 * with `rate` (0–1), only that share of the matching requests, drawn at random.
 */
export type FaultRule = { match: string; status: number; times?: number; rate?: number };

/**
 * Faults on `rate` (0–1) of all requests, half of them rate limits (429), half server errors (500): the mix a busy
 * provider answers with, for benchmarks.
 */
export function faultsAtRate(rate: number): FaultRule[] {
  if (rate <= 0) return [];
  const half = Math.min(rate, 1) / 2;
  // The second rule sees only what the first let through, so its own rate is scaled to make each half of the total.
  return [
    { match: '', status: 429, rate: half },
    { match: '', status: 500, rate: half / (1 - half) },
  ];
}

/** Each provider has its own error body; the SDKs read their own shape to build the message. */
export type ErrorDialect = 'tavily' | 'anthropic' | 'gemini' | 'web';

export type FaultInjector = {
  /** The rule that fires for this body (consuming one of its `times`), if any. */
  take(bodyText: string): FaultRule | undefined;
};

export function createFaultInjector(rules: readonly FaultRule[] = [], random: () => number = Math.random): FaultInjector {
  // Copied per server so one rule list can be reused without servers sharing the remaining counts.
  const state = rules.map((rule) => ({ rule, needle: rule.match.toLowerCase(), left: rule.times ?? Infinity }));
  return {
    take(bodyText) {
      const haystack = bodyText.toLowerCase();
      for (const s of state) {
        if (s.left > 0 && haystack.includes(s.needle) && (s.rule.rate === undefined || random() < s.rule.rate)) {
          s.left -= 1;
          return s.rule;
        }
      }
      return undefined;
    },
  };
}

const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** google.rpc.Code names, as the Gemini API puts them in `error.status`. */
const GOOGLE_STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function errorBody(dialect: ErrorDialect, status: number, message: string): unknown {
  if (dialect === 'tavily') return { detail: { error: message } };
  if (dialect === 'web') return { error: message };
  if (dialect === 'gemini') {
    const name = GOOGLE_STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
    return { error: { code: status, message, status: name } };
  }
  const type = ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return { type: 'error', error: { type, message } };
}

function isRetryable(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function errorHeaders(status: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (status === 429) headers['retry-after'] = '0';
  // The Anthropic SDK ignores a zero delay and falls back to ~0.5-8 s backoff;
  // 1 ms is the smallest delay it honours, which keeps offline retries instant.
  if (isRetryable(status)) headers['retry-after-ms'] = '1';
  return headers;
}

const FAULT_MESSAGES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  408: 'Request timeout',
  429: 'Rate limit exceeded',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
  529: 'Overloaded',
};

/** The status is part of the text because the Tavily SDK throws only `detail.error`, dropping the status. */
export function faultMessage(status: number): string {
  return `${FAULT_MESSAGES[status] ?? 'Error'} (HTTP ${status}, injected fault)`;
}

/** A whole answer in one go, its length declared. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, 'application/json', JSON.stringify(body), headers);
}

export function sendError(res: ServerResponse, dialect: ErrorDialect, status: number, message: string): void {
  sendJson(res, status, errorBody(dialect, status, message), errorHeaders(status));
}

/** Answers the request with an injected fault when a rule fires; true when it did. */
export function answerFault(res: ServerResponse, dialect: ErrorDialect, injector: FaultInjector, bodyText: string): boolean {
  const rule = injector.take(bodyText);
  if (!rule) return false;
  sendError(res, dialect, rule.status, faultMessage(rule.status));
  return true;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A request body that is a JSON object, or undefined for anything else (the stand-in answers that with a 400). */
export function jsonObject(bodyText: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(bodyText);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One request as the stand-in saw it: when it arrived (its limits' clock) and the status it was answered. */
export type RequestRecord = { at: number; status: number };

export type StandIn = {
  readonly url: string;
  close(): Promise<void>;
  readonly requests: number;
  /** Every request in arrival order (status 0 while unanswered): what a benchmark measures rates from. */
  readonly log: readonly RequestRecord[];
};

export type Handler = (req: IncomingMessage, res: ServerResponse, bodyText: string) => void | Promise<void>;

/**
 * Shared plumbing of both stand-ins: a loopback server on a free port that counts requests,
 * hands each handler the whole body, and turns a handler crash into a 500 in the provider's shape.
 */
export function serveLocally(
  dialect: ErrorDialect,
  handle: Handler,
  options: {
    latencyMs?: number;
    limits?: StandInLimits;
    /** Which requests the rate limit counts (all by default): a provider's redirect host is not its API. */
    limited?: (req: http.IncomingMessage) => boolean;
  } = {},
): Promise<StandIn> {
  let requests = 0;
  const log: RequestRecord[] = [];
  const limiter = createStandInLimiter(options.limits);
  const now = options.limits?.now ?? Date.now;
  const server = http.createServer((req, res) => {
    requests += 1;
    const record = { at: now(), status: 0 };
    log.push(record);
    res.on('finish', () => (record.status = res.statusCode));
    // Like a provider's gateway: the limit is checked on arrival, before the request is read or served.
    const refusal = (options.limited?.(req) ?? true) ? limiter.admit() : undefined;
    if (refusal) {
      req.resume();
      sendJson(res, 429, errorBody(dialect, 429, refusal.reason), refusalHeaders(refusal));
      return;
    }
    readBody(req)
      // A simulated provider round trip, for benchmarks that want realistic wall times; 0 by default.
      .then((bodyText) => (options.latencyMs ? delay(options.latencyMs).then(() => bodyText) : bodyText))
      .then((bodyText) => handle(req, res, bodyText))
      .catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        sendError(res, dialect, 500, `Stand-in failure: ${err instanceof Error ? err.message : String(err)}`);
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://127.0.0.1:${port}`,
        get requests() {
          return requests;
        },
        log,
        // Idempotent, so callers can close in both a finally block and a test's afterAll.
        close: () =>
          (closing ??= new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            // The SDKs keep connections alive; without this, close() waits for them to time out.
            server.closeAllConnections();
          })),
      });
    });
  });
}
