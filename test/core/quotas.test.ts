/** The quota arithmetic: fixed windows, their keys and Retry-After, and what a request costs in research units. */
import { describe, expect, it } from 'vitest';
import {
  DAILY_BUDGET_USD,
  DEFAULT_DAILY_RESEARCH_UNITS,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
  batchResearchUnits,
  minuteWindow,
  quotaKey,
  rateLimitRefusal,
  singleResearchUnits,
  unitsRefusal,
  utcDay,
} from '../../lambdas/core/quotas';

describe('minute windows', () => {
  it('are the UTC minute, with the seconds left to the next one and a TTL a minute past its end', () => {
    const window = minuteWindow(new Date('2026-11-28T05:38:20.500Z'));
    expect(window.id).toBe('2026-11-28T05:38');
    expect(window.retryAfterSeconds).toBe(40);
    expect(window.expiresAt).toBe(Date.parse('2026-11-28T05:40:00Z') / 1000);
  });

  it('say retry in at least a second, and start afresh on the minute', () => {
    expect(minuteWindow(new Date('2026-11-28T05:38:59.900Z')).retryAfterSeconds).toBe(1);
    const next = minuteWindow(new Date('2026-11-28T05:39:00.000Z'));
    expect(next).toMatchObject({ id: '2026-11-28T05:39', retryAfterSeconds: 60 });
  });

  it('refuse the request after the limit-th, saying when to retry', () => {
    const window = minuteWindow(new Date('2026-11-28T05:38:20Z'));
    expect(rateLimitRefusal(100, 100, window)).toBeUndefined();
    expect(rateLimitRefusal(101, 100, window)).toEqual({
      error: 'rate_limited',
      message: 'more than 100 requests in a minute; retry in 40 s',
      retryAfterSeconds: 40,
    });
  });
});

describe('days', () => {
  it('are the UTC day, retried at the next midnight UTC, kept a week', () => {
    const day = utcDay(new Date('2026-11-28T23:00:00Z'));
    expect(day).toEqual({ id: '2026-11-28', retryAfterSeconds: 3600, expiresAt: Date.parse('2026-12-06T00:00:00Z') / 1000 });
  });

  it('never share a key with a minute, whatever the client is called', () => {
    const now = new Date('2026-11-28T05:38:00Z');
    expect(quotaKey('client-alice', utcDay(now))).toBe('client-alice#2026-11-28');
    expect(quotaKey('client-alice', minuteWindow(now))).toBe('client-alice#2026-11-28T05:38');
    expect(quotaKey('client-alice#2026-11-28T05:38', utcDay(now))).not.toBe(quotaKey('client-alice', minuteWindow(now)));
  });
});

describe('research units', () => {
  it('bound the search credits: companies × max_iterations × max_queries × credits per search', () => {
    expect(singleResearchUnits({ max_iterations: 2, max_queries: 3, search_depth: 'basic' })).toBe(6);
    // An advanced search is 2 credits.
    expect(singleResearchUnits({ max_iterations: 2, max_queries: 3, search_depth: 'advanced' })).toBe(12);
    expect(batchResearchUnits(3, { max_iterations: 2, max_queries: 3, search_depth: 'basic' })).toBe(18);
    expect(batchResearchUnits(10_000, { max_iterations: 5, max_queries: 10, search_depth: 'basic' })).toBe(500_000);
  });

  it('default to 200,000 a day, about $1,000 of basic searches, and 100 requests a minute', () => {
    expect(DEFAULT_DAILY_RESEARCH_UNITS).toBe(200_000);
    expect(DAILY_BUDGET_USD).toBeCloseTo(1_000);
    expect(DEFAULT_RATE_LIMIT_PER_MINUTE).toBe(100);
  });

  it('fit up to the limit exactly; beyond it the refusal names used, requested and limit, and retries at midnight', () => {
    const day = utcDay(new Date('2026-11-28T22:00:00Z'));
    expect(unitsRefusal(94, 6, 100, day)).toBeUndefined();
    expect(unitsRefusal(95, 6, 100, day)).toEqual({
      error: 'quota_exceeded',
      message: 'used 95 of 100 research units today (UTC), this request needs 6; the budget resets at 00:00 UTC',
      retryAfterSeconds: 7200,
    });
  });

  it('refuse a request bigger than a whole day without a Retry-After: waiting would not help', () => {
    const refusal = unitsRefusal(0, 500_000, 200_000, utcDay(new Date()));
    expect(refusal?.retryAfterSeconds).toBeUndefined();
    expect(refusal?.message).toMatch(/this request needs 500000, more than the daily limit/);
  });
});
