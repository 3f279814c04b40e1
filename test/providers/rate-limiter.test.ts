/**
 * The shared provider rate limit: its slot shares, and the limiter against dynalite through the real
 * DynamoDBDocumentClient, on a table made by the Storage construct. Time is given, never waited for: concurrent callers
 * try at chosen instants (a bound equal to the instant means "do not wait"), and waiting runs on a fake clock.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../lambdas/providers/provider-error';
import {
  createRateLimiter,
  planSlots,
  slotShare,
  type Cost,
  type RateLimiterOptions,
  type RateLimitStore,
} from '../../lambdas/providers/rate-limiter';
import { withSearchPacing } from '../../lambdas/providers/pacing';
import { createGoogleSearch } from '../../lambdas/providers/google-search';
import { createTavilySearch } from '../../lambdas/providers/tavily-search';
import { DynamoRateLimitStore } from '../../lambdas/store/rate-limit-store';
import { Storage } from '../../lib/storage';
import { startEmbeddedAws, type EmbeddedAws } from '../../local/embedded-aws';
import { peakInWindow } from '../../local/stand-ins/rate-limits';
import { startGeminiStandIn } from '../../local/stand-ins/gemini-stand-in';
import { startTavilyStandIn } from '../../local/stand-ins/tavily-stand-in';
import { localName, type CfnTemplate } from '../../local/template';
import { virtualTime } from '../support/virtual-time';

let aws: EmbeddedAws;
let client: DynamoDBDocumentClient;
let store: DynamoRateLimitStore;
let tableName: string;

beforeAll(async () => {
  const app = new App();
  const stack = new Stack(app, 'RateLimitTest');
  const storage = new Storage(stack, 'Storage');
  aws = await startEmbeddedAws(Template.fromStack(stack).toJSON() as CfnTemplate);
  tableName = localName(stack.getLogicalId(storage.rateLimitsTable.node.defaultChild as CfnTable));
  client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: aws.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
  store = new DynamoRateLimitStore(client, tableName);
});

afterAll(async () => {
  client?.destroy();
  await aws?.stop();
});

// Every test its own limit key: the table is shared.
let keys = 0;
const START = Date.UTC(2030, 0, 1, 12, 0, 0) + 337; // not on a slot boundary
const limiterAt = (clock: { now: number }, options: Partial<RateLimiterOptions> & Pick<RateLimiterOptions, 'limits'>) =>
  createRateLimiter({ provider: 'tavily', key: `test-${++keys}`, store, now: () => clock.now, random: () => 0.5, ...options });

/** One attempt, no waiting: true when admitted. */
const tryOnce = (limiter: ReturnType<typeof createRateLimiter>, cost: Cost, at: number) =>
  limiter.acquire(cost, at).then(
    () => true,
    (error) => {
      expect(error).toBeInstanceOf(ProviderError);
      return false;
    },
  );

/** The largest total of `amount` over any `windowMs` of admissions. */
function peakAmount(admitted: { at: number; amount: number }[], windowMs: number): number {
  let peak = 0;
  let first = 0;
  let sum = 0;
  for (const entry of admitted) {
    sum += entry.amount;
    while (entry.at - admitted[first]!.at >= windowMs) sum -= admitted[first++]!.amount;
    peak = Math.max(peak, sum);
  }
  return peak;
}

describe('slot shares', () => {
  it.each([
    [1_000, 60],
    [100, 60],
    [10, 60],
  ])('%i a minute: any `span` consecutive slots share exactly the limit', (limit, slotsPerMinute) => {
    const plan = planSlots({ requests: limit });
    expect(plan.slotsPerMinute).toBe(slotsPerMinute);
    expect(plan.span).toBe(slotsPerMinute + 2);
    for (const first of [0, 1, 17, 1_000_003]) {
      let sum = 0;
      for (let slot = first; slot < first + plan.span; slot++) sum += slotShare(plan, 'requests', slot);
      expect(sum).toBe(limit);
    }
  });

  it('makes slots long enough for the largest single request of every limit', () => {
    const plan = planSlots({ requests: 1_000, input_tokens: 450_000, output_tokens: 90_000 }, { input_tokens: 10_000, output_tokens: 2_048 });
    // Output decides: 90,000 / 2,048 holds 43 shares, less the two of slack: 41 slots a minute, about 1.5 s each.
    expect(plan.slotsPerMinute).toBe(41);
    for (let slot = 0; slot < plan.span; slot++) {
      expect(slotShare(plan, 'input_tokens', slot)).toBeGreaterThanOrEqual(10_000);
      expect(slotShare(plan, 'output_tokens', slot)).toBeGreaterThanOrEqual(2_048);
    }
  });
});

describe('the limiter against DynamoDB', () => {
  it('admits exactly a slot share of 200 callers arriving at once', async () => {
    const clock = { now: START };
    const limiter = limiterAt(clock, { limits: { requests: 1_000 } });
    const admitted = await Promise.all(Array.from({ length: 200 }, () => tryOnce(limiter, { requests: 1 }, clock.now)));
    const slot = Math.floor(START / limiter.plan.slotMs);
    expect(admitted.filter(Boolean)).toHaveLength(slotShare(limiter.plan, 'requests', slot));
  });

  it('never admits more than the limit in any 60 s, with concurrent callers trying every half second for two minutes', async () => {
    const limit = 100;
    const clock = { now: START };
    const limiter = limiterAt(clock, { limits: { requests: limit } });
    const admitted: number[] = [];
    for (let step = 0; step < 125 * 2; step++) {
      clock.now = START + step * 500;
      const results = await Promise.all(Array.from({ length: 5 }, () => tryOnce(limiter, { requests: 1 }, clock.now)));
      for (const ok of results) if (ok) admitted.push(clock.now);
    }
    expect(peakInWindow(admitted, 60_000)).toBeLessThanOrEqual(limit);
    // Nor in 60 s plus a slot: the slack that covers clock skew and the trip to the provider.
    expect(peakInWindow(admitted, 60_000 + limiter.plan.slotMs)).toBeLessThanOrEqual(limit);
    // And it gives what it may: every slot's share was taken (the callers always wanted more).
    const firstSlot = Math.floor(START / limiter.plan.slotMs);
    const lastSlot = Math.floor(clock.now / limiter.plan.slotMs);
    let shares = 0;
    for (let slot = firstSlot; slot <= lastSlot; slot++) shares += slotShare(limiter.plan, 'requests', slot);
    expect(admitted).toHaveLength(shares);
    expect(shares).toBeGreaterThanOrEqual(Math.floor((limit * 120) / 62));
  });

  it('keeps tokens within their limit too, with requests of different sizes', async () => {
    const limit = 20_000;
    const clock = { now: START };
    const limiter = limiterAt(clock, { limits: { requests: 1_000, input_tokens: limit }, largest: { input_tokens: 1_000 } });
    const admitted: { at: number; amount: number }[] = [];
    let size = 0;
    for (let step = 0; step < 150; step++) {
      clock.now = START + step * 1_000;
      const costs = Array.from({ length: 8 }, () => 100 + ((size += 377) % 900));
      const results = await Promise.all(costs.map((tokens) => tryOnce(limiter, { requests: 1, input_tokens: tokens }, clock.now)));
      results.forEach((ok, i) => ok && admitted.push({ at: clock.now, amount: costs[i]! }));
    }
    expect(admitted.length).toBeGreaterThan(30);
    expect(peakAmount(admitted, 60_000)).toBeLessThanOrEqual(limit);
  });

  it('gives back what a request did not use, for the next caller in the same slot', async () => {
    const clock = { now: START };
    // Shares of 1,000 output tokens a slot: a request reserving 1,000 fills one.
    const limiter = limiterAt(clock, { limits: { output_tokens: 62_000 }, largest: { output_tokens: 1_000 } });
    const held = await limiter.acquire({ output_tokens: 1_000 }, clock.now);
    expect(await tryOnce(limiter, { output_tokens: 600 }, clock.now)).toBe(false);
    await held.settle({ output_tokens: 300 });
    expect(await tryOnce(limiter, { output_tokens: 600 }, clock.now)).toBe(true);
    expect(await tryOnce(limiter, { output_tokens: 200 }, clock.now)).toBe(false);
  });
});

describe('waiting for the limit', () => {
  it('waits for the next slot when the current one is spent, then proceeds', async () => {
    const clock = { now: START };
    const sleeps: number[] = [];
    const limiter = limiterAt(clock, {
      limits: { requests: 62 }, // a share of 1 in every one-second slot
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.now += ms;
      },
    });
    await limiter.acquire({ requests: 1 }, START + 10_000);
    const second = await limiter.acquire({ requests: 1 }, START + 10_000);
    expect(sleeps).toHaveLength(1);
    const slot = Math.floor(START / limiter.plan.slotMs);
    // Woken inside the next slot, at a random point of it (here the middle, random() being 0.5).
    expect(Math.floor(second.at / limiter.plan.slotMs)).toBe(slot + 1);
  });

  it('throws ProviderThrottled, saying how long, when the limit would not free up before the bound', async () => {
    const clock = { now: START };
    const sleeps: number[] = [];
    const limiter = limiterAt(clock, { limits: { requests: 62 }, sleep: async (ms) => void sleeps.push(ms) });
    await limiter.acquire({ requests: 1 }, START);
    const error = await limiter.acquire({ requests: 1 }, START + 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ name: 'ProviderThrottled', provider: 'tavily' });
    expect((error as ProviderError).retryAfterMs).toBeGreaterThan(100);
    expect(sleeps).toEqual([]);
  });

  it('gives back a place won by a write that came back too late, and takes a current one', async () => {
    const clock = { now: START };
    let writes = 0;
    // The first write takes a slot and a half to come back (an overloaded instance, a throttled table).
    const slow: RateLimitStore = {
      tryAdd: async (...args) => {
        const added = await store.tryAdd(...args);
        if (writes++ === 0) clock.now += 1_500;
        return added;
      },
      adjust: (...args) => store.adjust(...args),
    };
    const key = `late-${++keys}`;
    const limiter = createRateLimiter({ provider: 'tavily', key, limits: { requests: 62 }, store: slow, now: () => clock.now, random: () => 0.5 });
    const reservation = await limiter.acquire({ requests: 1 }, START + 10_000);
    const firstSlot = Math.floor(START / limiter.plan.slotMs);
    expect(Math.floor(reservation.at / limiter.plan.slotMs)).toBe(firstSlot + 1);
    expect(writes).toBe(2);
    // The late place was given back: the first slot holds nothing.
    const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: { limit_key: `${key}#1000#${firstSlot}` } }));
    expect(Item?.requests).toBe(0);
  });

  it('lets the call through, and says why, when the store fails: a broken limit must not stop research', async () => {
    const broken: RateLimitStore = {
      tryAdd: async () => {
        throw new Error('table missing');
      },
      adjust: async () => {
        throw new Error('table missing');
      },
    };
    const errors: unknown[] = [];
    const limiter = createRateLimiter({ provider: 'tavily', key: 'broken', limits: { requests: 1_000 }, store: broken, onStoreError: (e) => errors.push(e) });
    const reservation = await limiter.acquire({ requests: 1 }, Date.now());
    await reservation.settle({ requests: 1 });
    expect(errors).toHaveLength(1);
  });
});

describe('a paced batch against a stand-in that enforces the same limit', () => {
  const documents = [{ url: 'https://kestrel-looms.example/about', title: 'Kestrel Looms', content: 'Kestrel Looms weaves.' }];
  /** Twenty agents, nine searches each, one after another: three minutes' worth at 60 a minute. */
  const agents = (search: (query: string) => Promise<unknown>) =>
    Array.from({ length: 20 }, (_, agent) => async () => {
      for (let i = 0; i < 9; i++) await search(`Kestrel Looms ${agent} ${i}`);
    });
  /** A seeded generator: the jitter of a real run, the same every time. */
  const seeded = (seed: number) => () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

  /** The twenty agents, through a paced search of `provider` that keeps to `limit` a minute, in virtual time. */
  async function pacedRun(provider: 'tavily' | 'gemini', limit: number, seed: number) {
    const time = virtualTime(START);
    const limits = { requestsPerMinute: limit, now: time.now };
    const server =
      provider === 'tavily'
        ? await startTavilyStandIn({ documents, apiKey: 'tvly-test', limits })
        : await startGeminiStandIn({ documents, apiKey: 'gemini-test', limits });
    try {
      const random = seeded(seed);
      const limiter = createRateLimiter({ provider, key: `batch-${++keys}`, limits: { requests: limit }, store, now: time.now, sleep: time.sleep, random });
      const adapter =
        provider === 'tavily'
          ? createTavilySearch({ apiKey: 'tvly-test', baseUrl: server.url })
          : createGoogleSearch({ apiKey: 'gemini-test', baseUrl: server.url });
      const search = withSearchPacing(adapter, { limiter, maxWaitMs: 5 * 60_000, now: time.now, sleep: time.sleep, random });
      await time.run(agents((query) => search.search(query, { maxResults: 3 })));
      return server.log;
    } finally {
      await server.close();
    }
  }

  it('never gets a 429 and never sends more than the limit in any 60 s', async () => {
    const log = await pacedRun('tavily', 60, 7);
    expect(log.map((r) => r.status)).toEqual(Array(180).fill(200));
    const arrivals = log.map((r) => r.at);
    expect(peakInWindow(arrivals, 60_000)).toBeLessThanOrEqual(60);
    // Slowed down, not stalled: 180 requests at 60 a minute (less the limiter's slack) take about three minutes.
    expect(arrivals.at(-1)! - START).toBeGreaterThan(2 * 60_000);
    expect(arrivals.at(-1)! - START).toBeLessThan(3.5 * 60_000);
  });

  it('paces grounded Gemini searches the same way: no 429, never more than the project limit in any 60 s', async () => {
    const log = await pacedRun('gemini', 60, 11);
    // The grounding redirects each answer names are followed on another host in reality: they are not API calls,
    // and the stand-in answers them with a redirect, not a 200.
    expect(log.filter((r) => r.status === 429)).toEqual([]);
    const calls = log.filter((r) => r.status === 200).map((r) => r.at);
    expect(calls).toHaveLength(180);
    expect(peakInWindow(calls, 60_000)).toBeLessThanOrEqual(60);
  });

  it('unpaced, the same batch has most of its requests refused', async () => {
    const time = virtualTime(START);
    const server = await startTavilyStandIn({ documents, apiKey: 'tvly-test', limits: { requestsPerMinute: 60, now: time.now } });
    try {
      const tavily = createTavilySearch({ apiKey: 'tvly-test', baseUrl: server.url });
      await time.run(agents((query) => tavily.search(query, { maxResults: 3 }).catch(() => undefined)));
      const statuses = server.log.map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(60);
      expect(statuses.filter((s) => s === 429)).toHaveLength(120);
    } finally {
      await server.close();
    }
  });
});
