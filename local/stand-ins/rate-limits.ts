/**
 * A stand-in's own rate limit, as a provider enforces one: requests beyond `requestsPerMinute` in any 60 seconds are
 * answered 429 with a `retry-after` saying when there will be room; and, to see 429s handled at all, a share of
 * requests can be answered 429 regardless.
 */
export type StandInLimits = {
  /** At most this many requests are answered in any 60 s; the others get 429. */
  requestsPerMinute?: number;
  /** This share of requests (0..1) gets 429 anyway, spread evenly: 0.1 is every tenth. */
  throttleRate?: number;
  /** The retry-after of those (1 s by default). */
  retryAfterSeconds?: number;
  /** The clock of the 60-second window (tests pass a fake one). */
  now?: () => number;
};

/** What a refused request is told: wait this long. */
export type Refusal = { retryAfterMs: number; reason: string };

export type StandInLimiter = {
  /** Called once per request, in arrival order: undefined to answer it, a refusal to answer 429. */
  admit(): Refusal | undefined;
};

const WINDOW_MS = 60_000;

export function createStandInLimiter(limits: StandInLimits = {}): StandInLimiter {
  const now = limits.now ?? Date.now;
  const answered: number[] = []; // arrival times of answered requests in the last 60 s, oldest first
  let arrivals = 0;
  return {
    admit() {
      const at = now();
      while (answered.length && answered[0]! <= at - WINDOW_MS) answered.shift();
      const limit = limits.requestsPerMinute;
      if (limit !== undefined && answered.length >= limit) {
        return { retryAfterMs: answered[answered.length - limit]! + WINDOW_MS - at, reason: `Rate limit of ${limit} requests per minute exceeded` };
      }
      arrivals += 1;
      const rate = limits.throttleRate ?? 0;
      // The n-th arrival is refused when n × rate crosses a whole number: exactly that share, evenly spread.
      if (rate > 0 && Math.floor(arrivals * rate) > Math.floor((arrivals - 1) * rate)) {
        return { retryAfterMs: (limits.retryAfterSeconds ?? 1) * 1000, reason: 'Rate limit exceeded (injected)' };
      }
      answered.push(at);
      return undefined;
    },
  };
}

/** Headers of a 429: whole seconds (the standard), and milliseconds (Anthropic's finer `retry-after-ms`). */
export function refusalHeaders(refusal: Refusal): Record<string, string> {
  const ms = Math.max(0, Math.ceil(refusal.retryAfterMs));
  return { 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(ms) };
}

/** The largest number of requests in any `windowMs` (60 s by default) of `times`, which must be in order. */
export function peakInWindow(times: readonly number[], windowMs = WINDOW_MS): number {
  let peak = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= windowMs) first += 1;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}
