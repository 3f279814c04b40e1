/**
 * A rate limit shared by every Lambda instance that uses one provider key: requests (and tokens) per minute, counted
 * in short time slots of a shared store (DynamoDB: lambdas/store/rate-limit-store.ts).
 *
 * Why slots with fixed shares rather than one counter a minute: a counter per calendar minute lets a full minute's
 * budget go at the end of one minute and again at the start of the next, twice the limit within 60 s. Here each slot
 * gets a share of the limit such that any `slotsPerMinute + 2` consecutive slots hold exactly the limit; a 60-second
 * window touches at most `slotsPerMinute + 1` slots, and the extra slot absorbs clock skew between instances and the
 * time a request takes to reach the provider. So no 60-second window ever holds more than the limit, at the price of
 * using `slotsPerMinute / (slotsPerMinute + 2)` of it (97 % with one-second slots).
 *
 * A caller whose slot is spent waits for a later one (jittered, so waiters do not all retry at once) up to a bound,
 * then gets ProviderThrottled: the state machine's retry takes over, with its longer backoff.
 */
import { ProviderError } from './provider-error';

export type Dimension = 'requests' | 'input_tokens' | 'output_tokens';
export const DIMENSIONS: readonly Dimension[] = ['requests', 'input_tokens', 'output_tokens'];
export type Cost = Partial<Record<Dimension, number>>;
/** Per minute; an absent dimension is not limited. */
export type RateLimits = Partial<Record<Dimension, number>>;

export interface SlotPlan {
  slotMs: number;
  slotsPerMinute: number;
  /** Slots whose shares add up to each limit: any 60 s window, plus one slot of slack, spans at most this many. */
  span: number;
  limits: RateLimits;
}

/** One-second slots unless a single request's cost needs a bigger share. */
const MAX_SLOTS_PER_MINUTE = 60;

/**
 * Slot length for `limits`, such that each dimension's share of a slot holds the largest single cost given for it
 * (a 10,000-token prompt against 450,000 input tokens a minute needs slots of about 1.4 s).
 */
export function planSlots(limits: RateLimits, largest: Cost = {}): SlotPlan {
  let slotsPerMinute = MAX_SLOTS_PER_MINUTE;
  for (const dimension of DIMENSIONS) {
    const limit = limits[dimension];
    if (limit === undefined) continue;
    if (!(limit >= 1)) throw new Error(`rate limit: ${dimension} per minute must be at least 1, not ${limit}`);
    const biggest = largest[dimension] ?? 1;
    // A single unit always fits: shares of 0 and 1 still add up right. Bigger costs need shares of at least their
    // size, limit / (slotsPerMinute + 2) >= biggest; at worst one slot a minute (shares of a third of the limit).
    if (biggest > 1) slotsPerMinute = Math.min(slotsPerMinute, Math.max(1, Math.floor(limit / biggest) - 2));
  }
  return { slotMs: 60_000 / slotsPerMinute, slotsPerMinute, span: slotsPerMinute + 2, limits };
}

/**
 * The share of `dimension` slot number `slot` may hold. Shares are whole numbers that add up to the limit over any
 * `span` consecutive slots (the remainder spread evenly, as a line is drawn on a pixel grid), so small limits work
 * too: 10 requests a minute are 10 slots with a share of 1 in every 62.
 */
export function slotShare(plan: SlotPlan, dimension: Dimension, slot: number): number {
  const limit = plan.limits[dimension];
  if (limit === undefined) return Infinity;
  const position = ((slot % plan.span) + plan.span) % plan.span;
  return Math.floor(((position + 1) * limit) / plan.span) - Math.floor((position * limit) / plan.span);
}

/** The shared counters, one item per key and slot. */
export interface RateLimitStore {
  /**
   * Adds `cost` to the counters of `slotKey` only if, before adding, each is at most its `room`; true when it did.
   * One atomic conditional write: concurrent callers can never together pass a room.
   */
  tryAdd(slotKey: string, cost: Cost, room: Cost, expiresAt: number): Promise<boolean>;
  /** Corrects counters after the fact (an estimate replaced by the real figure); may go either way. */
  adjust(slotKey: string, delta: Cost): Promise<void>;
}

export interface Reservation {
  /** When the slot was won (ms since the epoch). */
  readonly at: number;
  /** Replaces the reserved estimate by what the request really used (or did not: a failed call's output tokens). */
  settle(actual: Cost): Promise<void>;
}

export interface RateLimiter {
  readonly plan: SlotPlan;
  /** Waits until `cost` fits the shared limit; ProviderThrottled when it would not before `bound` (ms since the epoch). */
  acquire(cost: Cost, bound: number): Promise<Reservation>;
}

export interface RateLimiterOptions {
  /** The provider, for error messages. */
  provider: string;
  /** Which shared budget: one per provider key (and model class), never the key itself. */
  key: string;
  limits: RateLimits;
  largest?: Cost;
  store: RateLimitStore;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** A broken store must not stop research: the call goes ahead unpaced, and this hears why. */
  onStoreError?: (error: unknown) => void;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Counters outlive their slot by a while, for whoever wants to read what happened; then the table's TTL drops them. */
const SLOT_RETENTION_SECONDS = 3_600;

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const plan = planSlots(options.limits, options.largest);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  // The slot length is part of the key: instances deployed with different limits must not read each other's slots.
  const slotKey = (slot: number) => `${options.key}#${Math.round(plan.slotMs)}#${slot}`;

  /** What slot `slot` can take of `cost`, and the room each counter must leave; undefined when a share is 0. */
  const fit = (slot: number, cost: Cost) => {
    const take: Cost = {};
    const room: Cost = {};
    for (const dimension of DIMENSIONS) {
      const wanted = cost[dimension] ?? 0;
      if (wanted <= 0) continue;
      const share = slotShare(plan, dimension, slot);
      if (share === Infinity) {
        take[dimension] = wanted; // counted, not limited
        continue;
      }
      if (share < 1) return undefined;
      // A request bigger than a slot's share takes a whole empty slot (planSlots sizes slots so this is rare).
      take[dimension] = Math.min(wanted, share);
      room[dimension] = share - take[dimension]!;
    }
    return { take, room };
  };

  const reservation = (slot: number, at: number, taken: Cost): Reservation => ({
    at,
    async settle(actual) {
      const delta: Cost = {};
      let changed = false;
      for (const dimension of DIMENSIONS) {
        const difference = (actual[dimension] ?? taken[dimension] ?? 0) - (taken[dimension] ?? 0);
        if (difference !== 0) {
          delta[dimension] = difference;
          changed = true;
        }
      }
      if (!changed) return;
      try {
        await options.store.adjust(slotKey(slot), delta);
      } catch (error) {
        options.onStoreError?.(error);
      }
    },
  });

  return {
    plan,
    async acquire(cost, bound) {
      const started = now();
      for (;;) {
        const at = now();
        const slot = Math.floor(at / plan.slotMs);
        const fits = fit(slot, cost);
        if (fits) {
          let added: boolean;
          try {
            const expiresAt = Math.ceil(((slot + 1) * plan.slotMs) / 1000) + SLOT_RETENTION_SECONDS;
            added = await options.store.tryAdd(slotKey(slot), fits.take, fits.room, expiresAt);
          } catch (error) {
            options.onStoreError?.(error);
            return { at, settle: async () => undefined };
          }
          if (added) {
            // A write that came back late (an overloaded instance or table) would send the request past the slack that
            // covers the trip to the provider: give the place back and take a current one.
            const late = now() - (slot + 1) * plan.slotMs;
            if (late <= plan.slotMs / 2) return reservation(slot, at, fits.take);
            await reservation(slot, at, fits.take).settle(Object.fromEntries(DIMENSIONS.map((d) => [d, 0])));
            continue;
          }
        }
        // Spent: try again in the next slot, at a random point of it so waiters spread out. Those who have waited
        // longer come earlier in the slot, which keeps the order roughly first come, first served.
        const waited = Math.min(1, (at - started) / Math.max(1, bound - started));
        const wake = (slot + 1) * plan.slotMs + random() * plan.slotMs * Math.max(0.1, 1 - waited);
        if (wake > bound) {
          throw new ProviderError(
            'ProviderThrottled',
            options.provider,
            `the shared rate limit (${describeLimits(plan.limits)}) stayed spent for ${Math.round((at - started) / 1000)} s`,
            Math.ceil(wake - at),
          );
        }
        await sleep(wake - at);
      }
    },
  };
}

export function describeLimits(limits: RateLimits): string {
  return DIMENSIONS.filter((d) => limits[d] !== undefined)
    .map((d) => `${limits[d]} ${d.replace('_', ' ')}/min`)
    .join(', ');
}
