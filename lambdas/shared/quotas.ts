/**
 * Per-client quotas on the REST API: a request rate (every route, through httpHandler) and a daily budget of
 * research units (the routes that start research). Counted in the quotas table; without one, nothing is limited.
 */
import { minuteWindow, quotaKey, rateLimitRefusal, unitsRefusal, utcDay, type QuotaRefusal } from '../core/quotas';
import { DynamoQuotaStore, type QuotaStore } from '../store/quota-store';
import { documentClient } from './aws-clients';
import { config } from './config';
import { logger } from './observability';

function quotaStore(): QuotaStore | undefined {
  const table = config.quotasTableName;
  return table ? new DynamoQuotaStore(documentClient(), table) : undefined;
}

/** Counts the caller's request in its current minute: the refusal when it is over the limit. */
export async function checkRateLimit(client: string, now = new Date()): Promise<QuotaRefusal | undefined> {
  const store = quotaStore();
  if (!store) return undefined;
  const window = minuteWindow(now);
  try {
    return rateLimitRefusal(await store.countRequest(quotaKey(client, window), window.expiresAt), config.rateLimitPerMinute, window);
  } catch (error) {
    // Fail open: an outage of the counters must not take the API down. The stage's throttle still bounds the
    // traffic, and the daily quota (which fails closed) still bounds the cost.
    logger.error('rate limit not checked: the quotas table failed; the request goes through', { client, error });
    return undefined;
  }
}

export type Reservation = { granted: true; release(): Promise<void> } | { granted: false; refusal: QuotaRefusal };

const NOTHING_RESERVED: Reservation = { granted: true, release: async () => {} };

/**
 * Reserves `units` of the client's budget for today (UTC), before the work starts. Fails closed: an error of the
 * quotas table fails the request (500, safe to retry), since the work it would start is what costs money.
 * Units are an upper bound and are not refunded when a run needs fewer.
 */
export async function reserveResearchUnits(client: string, units: number, now = new Date()): Promise<Reservation> {
  const store = quotaStore();
  if (!store) return NOTHING_RESERVED;
  const day = utcDay(now);
  const key = quotaKey(client, day);
  const limit = config.dailyResearchUnits;
  let outcome = await store.reserveUnits(key, units, limit, day.expiresAt);
  // Refused, yet the units fit once read: another request released some in between. Try once more.
  if (!outcome.reserved && !unitsRefusal(outcome.used, units, limit, day)) outcome = await store.reserveUnits(key, units, limit, day.expiresAt);
  if (!outcome.reserved) {
    const used = outcome.used;
    return { granted: false, refusal: unitsRefusal(used, units, limit, day) ?? unitsRefusal(Math.max(used, limit - units + 1), units, limit, day)! };
  }
  return {
    granted: true,
    // The same day's item, even when released after midnight.
    release: async () => {
      try {
        await store.releaseUnits(key, units);
      } catch (error) {
        // Not released: the client's budget is lower than it should be until the day ends; never worse than that.
        logger.error('reserved research units not released', { client, key, units, error });
      }
    },
  };
}
