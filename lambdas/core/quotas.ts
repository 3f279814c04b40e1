/**
 * Per-client limits, as arithmetic: the one-minute request window and the daily budget of research units. No I/O:
 * lambdas/store/quota-store.ts counts, lambdas/shared/quotas.ts decides with these.
 */
import { SEARCH_CREDIT_USD } from './pricing';
import { creditsPerSearch, type RunPlan } from './tiers';

/** Requests per minute per client across the REST routes (the seed's default). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 100;

/** Research units (search credits) per client per UTC day: 200,000 basic Tavily searches, about $1,000 at SEARCH_CREDIT_USD. */
export const DEFAULT_DAILY_RESEARCH_UNITS = 200_000;
export const DAILY_BUDGET_USD = DEFAULT_DAILY_RESEARCH_UNITS * SEARCH_CREDIT_USD;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** A fixed window: its key suffix, when it ends and when its counter may be dropped (DynamoDB TTL, epoch seconds). */
export interface QuotaWindow {
  /** `2026-11-28T05:38` for a minute, `2026-11-28` for a day: distinct shapes, so the two never share a key. */
  id: string;
  /** Whole seconds until the next window, at least 1 (a Retry-After). */
  retryAfterSeconds: number;
  expiresAt: number;
}

function windowOf(now: Date, lengthMs: number, idLength: number, keepMs: number): QuotaWindow {
  const start = Math.floor(now.getTime() / lengthMs) * lengthMs;
  const end = start + lengthMs;
  return {
    id: new Date(start).toISOString().slice(0, idLength),
    retryAfterSeconds: Math.max(1, Math.ceil((end - now.getTime()) / 1000)),
    expiresAt: Math.floor((end + keepMs) / 1000),
  };
}

/** The UTC minute `now` falls in; its counter is kept a minute past its end (TTL deletes lazily anyway). */
export const minuteWindow = (now: Date): QuotaWindow => windowOf(now, MINUTE_MS, 16, MINUTE_MS);

/** The UTC day `now` falls in; its total is kept a week, to answer "what did this client spend". */
export const utcDay = (now: Date): QuotaWindow => windowOf(now, DAY_MS, 10, 7 * DAY_MS);

/** The counter's key: one item per client and window. */
export const quotaKey = (client: string, window: QuotaWindow) => `${client}#${window.id}`;

/**
 * An upper bound on the search credits a company's run can spend: every iteration plans at most max_queries searches,
 * each costing its depth's credits. Takes the resolved plan (lambdas/core/job-layout.ts runSettings), not the request.
 */
export const singleResearchUnits = (plan: Pick<RunPlan, 'max_iterations' | 'max_queries' | 'search_depth'>) =>
  plan.max_iterations * plan.max_queries * creditsPerSearch(plan.search_depth);

export const batchResearchUnits = (companies: number, plan: Pick<RunPlan, 'max_iterations' | 'max_queries' | 'search_depth'>) =>
  companies * singleResearchUnits(plan);

/** A refusal, as the API answers it (429 with Retry-After, or without one when waiting cannot help). */
export interface QuotaRefusal {
  error: 'rate_limited' | 'quota_exceeded';
  message: string;
  retryAfterSeconds?: number;
}

/** The count is this request's, included: the limit-th request passes, the next one does not. */
export function rateLimitRefusal(count: number, limit: number, window: QuotaWindow): QuotaRefusal | undefined {
  if (count <= limit) return undefined;
  return {
    error: 'rate_limited',
    message: `more than ${limit} requests in a minute; retry in ${window.retryAfterSeconds} s`,
    retryAfterSeconds: window.retryAfterSeconds,
  };
}

/** Whether `requested` more units fit, and what the refusal says when they do not. */
export function unitsRefusal(used: number, requested: number, limit: number, day: QuotaWindow): QuotaRefusal | undefined {
  if (used + requested <= limit) return undefined;
  const counts = `used ${used} of ${limit} research units today (UTC), this request needs ${requested}`;
  // A request bigger than a whole day's budget never fits: waiting would not help, so no Retry-After.
  if (requested > limit) {
    return { error: 'quota_exceeded', message: `${counts}, more than the daily limit: split it or lower max_iterations/max_queries` };
  }
  return { error: 'quota_exceeded', message: `${counts}; the budget resets at 00:00 UTC`, retryAfterSeconds: day.retryAfterSeconds };
}
