/** The stand-ins' own rate limits (local/stand-ins/rate-limits.ts), and the window count the benchmark reports. */
import { describe, expect, it } from 'vitest';
import { createStandInLimiter, peakInWindow, refusalHeaders } from '../../local/stand-ins/rate-limits';

describe('a stand-in limit of requests per minute', () => {
  it('answers up to the limit in any 60 s, and tells the others when the oldest leaves the window', () => {
    const clock = { now: 0 };
    const limiter = createStandInLimiter({ requestsPerMinute: 2, now: () => clock.now });
    expect(limiter.admit()).toBeUndefined();
    clock.now = 20_000;
    expect(limiter.admit()).toBeUndefined();
    clock.now = 59_999;
    expect(limiter.admit()).toEqual({ retryAfterMs: 1, reason: expect.stringMatching(/2 requests per minute/) });
    clock.now = 60_000;
    expect(limiter.admit()).toBeUndefined();
    // Refused requests do not count: the window holds the answers at 20 s and 60 s.
    clock.now = 70_000;
    expect(limiter.admit()?.retryAfterMs).toBe(10_000);
  });

  it('refuses a given share of requests evenly, with the configured retry-after', () => {
    const limiter = createStandInLimiter({ throttleRate: 0.25, retryAfterSeconds: 4 });
    const refused = Array.from({ length: 12 }, () => limiter.admit());
    expect(refused.map((r) => (r ? 429 : 200))).toEqual([200, 200, 200, 429, 200, 200, 200, 429, 200, 200, 200, 429]);
    expect(refusalHeaders(refused[3]!)).toEqual({ 'retry-after': '4', 'retry-after-ms': '4000' });
  });
});

describe('peakInWindow', () => {
  it('finds the most requests within any 60 s', () => {
    expect(peakInWindow([])).toBe(0);
    // 10 s, 59.999 s, 60 s and 61 s lie within 60 s of one another; 0 s is 61 s before the last.
    expect(peakInWindow([0, 10_000, 59_999, 60_000, 61_000, 119_000])).toBe(4);
    expect(peakInWindow([0, 1, 2, 3], 2)).toBe(2);
  });
});
