/**
 * Faults at rates, for chaos runs of the stand-ins: a share of requests is throttled, fails, is overloaded, is
 * answered slowly or with a body cut short. The match rules of faults.ts pick requests by their text; these pick
 * them by chance, from a seed.
 *
 * The chance is drawn from a hash of (seed, request body, how many times this body was seen), not from a stream of
 * random numbers: concurrent requests arrive in a different order on every run, and a stream would hand them
 * different faults each time. Keyed by the request, the same seed gives the same request the same fault on its
 * first try, and its retry a fresh draw.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { answerFault, errorBody, sendJson, sendText, type ErrorDialect, type FaultInjector } from './faults';

export const FAULT_KINDS = ['throttled', 'error', 'overloaded', 'slow', 'malformed'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultRates = {
  /** 429 with `retry-after` (and Google's RetryInfo). */
  throttled?: number;
  /** 500. */
  error?: number;
  /** The provider's overload answer: Anthropic's 529 `overloaded_error`, Gemini's and Tavily's 503. */
  overloaded?: number;
  /** The right answer, `slowMs` late. */
  slow?: number;
  /** 200 with a JSON body cut off part way. */
  malformed?: number;
  /** The same seed and requests give the same faults. Default 1. */
  seed?: number;
  /** What a 429 asks callers to wait. Default 1 ms, so offline retries do not wait. */
  retryAfterMs?: number;
  /** Default 2,000 ms. */
  slowMs?: number;
  /** Only requests whose raw body contains this text (case-insensitive) are candidates. */
  match?: string;
  /** At most this many faults in all; then the stand-in answers normally. */
  limit?: number;
};

export type FaultDice = {
  /** The fault this request gets, if any; counted in `injected`. */
  roll(bodyText: string): FaultKind | undefined;
  readonly injected: Readonly<Record<FaultKind, number>>;
  readonly options: Readonly<FaultRates>;
};

export function createFaultDice(rates: FaultRates = {}): FaultDice {
  let total = 0;
  for (const kind of FAULT_KINDS) {
    const rate = rates[kind] ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new Error(`fault rates: ${kind} must be between 0 and 1, not ${rate}`);
    total += rate;
  }
  if (total > 1 + 1e-9) throw new Error(`fault rates: the rates add up to ${total}, more than 1`);
  const seed = rates.seed ?? 1;
  const needle = rates.match?.toLowerCase();
  const seen = new Map<string, number>();
  const injected = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  let left = rates.limit ?? Infinity;
  return {
    injected,
    options: rates,
    roll(bodyText) {
      if (total === 0 || left <= 0) return undefined;
      if (needle !== undefined && !bodyText.toLowerCase().includes(needle)) return undefined;
      const bodyHash = createHash('sha256').update(bodyText).digest('hex');
      const occurrence = seen.get(bodyHash) ?? 0;
      seen.set(bodyHash, occurrence + 1);
      const draw = createHash('sha256').update(`${seed}\u0000${occurrence}\u0000${bodyHash}`).digest();
      // 48 bits of the hash as a number in [0, 1).
      let u = draw.readUIntBE(0, 6) / 2 ** 48;
      for (const kind of FAULT_KINDS) {
        const rate = rates[kind] ?? 0;
        if (u < rate) {
          injected[kind] += 1;
          left -= 1;
          return kind;
        }
        u -= rate;
      }
      return undefined;
    },
  };
}

/** Stand-ins take rates, or dice made by their caller, who can then read what was injected. */
export function faultDiceOf(from: FaultRates | FaultDice | undefined): FaultDice {
  return from && 'roll' in from ? from : createFaultDice(from);
}

/** The providers whose stand-ins inject faults at rates (the web stand-in injects none). */
type ProviderDialect = Exclude<ErrorDialect, 'web'>;

/** The start of each provider's success body, as if the connection had dropped part way through it. */
const TRUNCATED_BODIES: Record<ProviderDialect, string> = {
  tavily: '{"query":"","results":[{"title":"',
  anthropic: '{"id":"msg_truncated","type":"message","role":"assistant","content":[{"type":"text","text":"',
  gemini: '{"candidates":[{"content":{"parts":[{"text":"',
};

function throttle(res: ServerResponse, dialect: ErrorDialect, retryAfterMs: number): void {
  const message = 'Rate limit exceeded (HTTP 429, injected fault)';
  const body = errorBody(dialect, 429, message) as Record<string, any>;
  // Google says how long to wait in the body (google.rpc.RetryInfo); the SDK exposes no headers on errors.
  if (dialect === 'gemini') body.error.details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterMs / 1000}s` }];
  sendJson(res, 429, body, { 'retry-after': String(Math.ceil(retryAfterMs / 1000)), 'retry-after-ms': String(retryAfterMs) });
}

function fail(res: ServerResponse, dialect: ErrorDialect, status: number, message: string): void {
  // retry-after-ms keeps the Anthropic SDK's own retries of a 5xx instant, as faults.ts does.
  sendJson(res, status, errorBody(dialect, status, message), { 'retry-after-ms': '1' });
}

/** Waits `ms`, or less if the client hangs up; true when it did. */
function waitUnlessClosed(res: ServerResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(false);
    }, ms);
    res.once('close', onClose);
  });
}

/**
 * Answers the request with a drawn fault; true when the request is dealt with. A slow answer waits here and returns
 * false, so the stand-in then answers as usual (late), unless the client gave up meanwhile.
 */
export async function answerRandomFault(res: ServerResponse, dialect: ProviderDialect, dice: FaultDice, bodyText: string): Promise<boolean> {
  const kind = dice.roll(bodyText);
  switch (kind) {
    case undefined:
      return false;
    case 'throttled':
      throttle(res, dialect, dice.options.retryAfterMs ?? 1);
      return true;
    case 'error':
      fail(res, dialect, 500, 'Internal server error (HTTP 500, injected fault)');
      return true;
    case 'overloaded':
      if (dialect === 'anthropic') fail(res, dialect, 529, 'Overloaded (HTTP 529, injected fault)');
      else fail(res, dialect, 503, 'The model is overloaded. Please try again later. (HTTP 503, injected fault)');
      return true;
    case 'malformed': {
      sendText(res, 200, 'application/json', TRUNCATED_BODIES[dialect]);
      return true;
    }
    case 'slow':
      return waitUnlessClosed(res, dice.options.slowMs ?? 2_000);
  }
}

/**
 * Every stand-in's first answer to a request: a fault its rules inject (faults.ts), else one drawn at its rates. True
 * when the request is dealt with.
 */
export async function answerInjectedFault(res: ServerResponse, dialect: ProviderDialect, rules: FaultInjector, dice: FaultDice, bodyText: string): Promise<boolean> {
  return answerFault(res, dialect, rules, bodyText) || (await answerRandomFault(res, dialect, dice, bodyText));
}
