/**
 * Paced providers: every attempt takes its place in the shared limit, a 429's retry-after is waited out (at least as
 * long as asked, never longer than allowed), and the LLM's tokens are reserved and then settled to what was used.
 * Waiting runs on a fake clock; the stand-ins read the same clock, so their logs show when each request arrived.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../lambdas/providers/anthropic-model';
import type { LanguageModel, TokenUsage } from '../../lambdas/providers/language-model';
import { estimateInputTokens, withModelPacing, withSearchPacing, type PacingOptions } from '../../lambdas/providers/pacing';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { createRateLimiter, DIMENSIONS, type Cost, type RateLimits, type RateLimitStore } from '../../lambdas/providers/rate-limiter';
import type { SearchProvider } from '../../lambdas/providers/search-provider';
import { createTavilySearch } from '../../lambdas/providers/tavily-search';
import { startAnthropicStandIn } from '../../local/stand-ins/anthropic-stand-in';
import type { StandIn } from '../../local/stand-ins/faults';
import type { StandInLimits } from '../../local/stand-ins/rate-limits';
import { startTavilyStandIn } from '../../local/stand-ins/tavily-stand-in';

const documents = [{ url: 'https://kestrel-looms.example/about', title: 'Kestrel Looms', content: 'Kestrel Looms weaves.\n\n- Founded: 1998' }];
const START = Date.UTC(2030, 0, 1, 12, 0, 0);

/** The limiter's counters in memory, with the same rule as the DynamoDB store's conditional write. */
function memoryStore() {
  const items = new Map<string, Cost>();
  const store: RateLimitStore = {
    async tryAdd(key, cost, room) {
      const item = items.get(key) ?? {};
      if (DIMENSIONS.some((d) => room[d] !== undefined && (item[d] ?? 0) > room[d]!)) return false;
      for (const d of DIMENSIONS) if (cost[d]) item[d] = (item[d] ?? 0) + cost[d]!;
      items.set(key, item);
      return true;
    },
    async adjust(key, delta) {
      const item = items.get(key) ?? {};
      for (const d of DIMENSIONS) if (delta[d]) item[d] = (item[d] ?? 0) + delta[d]!;
      items.set(key, item);
    },
  };
  return { store, items };
}

/** A fake clock whose sleep moves it on, recording each wait. */
function fakeClock() {
  const clock = { now: START, sleeps: [] as number[] };
  return Object.assign(clock, {
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.now += ms;
    },
  });
}

function pacingWith(clock: ReturnType<typeof fakeClock>, limits: RateLimits = { requests: 1_000 }, extra: Partial<PacingOptions> = {}) {
  const { store, items } = memoryStore();
  const limiter = createRateLimiter({ provider: 'test', key: 'k', limits, store, now: () => clock.now, sleep: clock.sleep, random: () => 0 });
  const options: PacingOptions = { limiter, maxWaitMs: 30_000, now: () => clock.now, sleep: clock.sleep, random: () => 0, ...extra };
  return { options, items };
}

/** A search provider that fails with the given errors first, then answers. */
function scriptedSearch(failures: ProviderError[]): SearchProvider & { calls: number } {
  const provider = {
    name: 'tavily',
    calls: 0,
    async search() {
      provider.calls += 1;
      const failure = failures.shift();
      if (failure) throw failure;
      return { hits: [], credits: 1 };
    },
  };
  return provider;
}

const standIns: StandIn[] = [];
afterAll(async () => {
  await Promise.all(standIns.map((s) => s.close()));
});
async function tavilyStandIn(limits: StandInLimits) {
  const server = await startTavilyStandIn({ documents, apiKey: 'tvly-test', limits });
  standIns.push(server);
  return server;
}

describe('a 429 with retry-after', () => {
  it('is waited out, at least as long as the provider asked, before the next attempt', async () => {
    const clock = fakeClock();
    const provider = scriptedSearch([new ProviderError('ProviderThrottled', 'tavily', 'HTTP 429', 7_000)]);
    const { options } = pacingWith(clock);
    const response = await withSearchPacing(provider, options).search('Kestrel Looms', { maxResults: 5 });
    expect(response.credits).toBe(1);
    expect(provider.calls).toBe(2);
    expect(clock.sleeps).toEqual([7_000]);
  });

  it('goes up at once when the wait asked for is longer than allowed: the state machine retries later', async () => {
    const clock = fakeClock();
    const provider = scriptedSearch([new ProviderError('ProviderThrottled', 'tavily', 'HTTP 429', 45_000)]);
    const { options } = pacingWith(clock);
    const error = await withSearchPacing(provider, options).search('Kestrel Looms', { maxResults: 5 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProviderThrottled', retryAfterMs: 45_000 });
    expect(provider.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('stops retrying after the configured number of throttles', async () => {
    const clock = fakeClock();
    const throttled = () => new ProviderError('ProviderThrottled', 'tavily', 'HTTP 429', 1_000);
    const provider = scriptedSearch([throttled(), throttled(), throttled()]);
    const { options } = pacingWith(clock, { requests: 1_000 }, { throttleRetries: 2 });
    await expect(withSearchPacing(provider, options).search('q', { maxResults: 5 })).rejects.toMatchObject({ name: 'ProviderThrottled' });
    expect(provider.calls).toBe(3);
  });

  it('from the Tavily stand-in: the adapter reads retry-after, and the retry arrives no sooner', async () => {
    const clock = fakeClock();
    // Every second request is answered 429 with retry-after: 2 (the stand-in's clock is the fake one).
    const server = await tavilyStandIn({ throttleRate: 0.5, retryAfterSeconds: 2, now: () => clock.now });
    const tavily = createTavilySearch({ apiKey: 'tvly-test', baseUrl: server.url });
    await tavily.search('Kestrel Looms', { maxResults: 3 });
    const refused = await tavily.search('Kestrel Looms', { maxResults: 3 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ProviderThrottled', retryAfterMs: 2_000 });

    const paced = withSearchPacing(tavily, pacingWith(clock).options);
    await paced.search('Kestrel Looms', { maxResults: 3 }); // the third request: answered
    expect((await paced.search('Kestrel Looms', { maxResults: 3 })).hits).toHaveLength(1); // the fourth refused, retried
    const statuses = server.log.map((r) => r.status);
    expect(statuses).toEqual([200, 429, 200, 429, 200]);
    const [, , , throttledAt, retriedAt] = server.log.map((r) => r.at);
    expect(retriedAt! - throttledAt!).toBeGreaterThanOrEqual(2_000);
  });

  it('from the Anthropic stand-in: the adapter reads it too (the SDK left not to retry by itself)', async () => {
    const server = await startAnthropicStandIn({ apiKey: 'sk-test', limits: { throttleRate: 1, retryAfterSeconds: 3 } });
    standIns.push(server);
    const model = createAnthropicModel({ apiKey: 'sk-test', model: 'claude-sonnet-4-6', baseUrl: server.url, maxRetries: 0 });
    const error = await model.write({ system: 's', prompt: 'p', maxTokens: 10 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ProviderThrottled', retryAfterMs: 3_000 });
    expect(server.requests).toBe(1);
  });
});

describe('the stand-in enforcing a limit, with and without pacing', () => {
  it('answers 429 with the wait until there is room; paced callers wait that long and get through', async () => {
    const clock = fakeClock();
    const server = await tavilyStandIn({ requestsPerMinute: 3, now: () => clock.now });
    const tavily = createTavilySearch({ apiKey: 'tvly-test', baseUrl: server.url });
    for (let i = 0; i < 3; i++) {
      await tavily.search('Kestrel Looms', { maxResults: 3 });
      clock.now += 10_000;
    }
    // Three answered at +0, +10 and +20 s; now +30 s: room again when the first leaves the window, 30 s from now.
    const refused = await tavily.search('Kestrel Looms', { maxResults: 3 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ name: 'ProviderThrottled', retryAfterMs: 30_000 });
    // Paced with a wait allowed long enough, the call waits out the retry-after and is answered.
    const paced = withSearchPacing(tavily, pacingWith(clock, { requests: 1_000 }, { maxWaitMs: 60_000 }).options);
    await paced.search('Kestrel Looms', { maxResults: 3 });
    expect(server.log.map((r) => r.status)).toEqual([200, 200, 200, 429, 429, 200]);
    expect(clock.sleeps).toEqual([30_000]);
  });
});

describe('LLM pacing', () => {
  function recordingModel(usage: TokenUsage = { model: 'claude-sonnet-4-6', input_tokens: 900, output_tokens: 150 }, failures: ProviderError[] = []) {
    const model: LanguageModel & { calls: number } = {
      model: 'claude-sonnet-4-6',
      calls: 0,
      async write() {
        model.calls += 1;
        const failure = failures.shift();
        if (failure) throw failure;
        return { text: 'notes', usage };
      },
      async structured() {
        model.calls += 1;
        return { value: {}, usage };
      },
    };
    return model;
  }
  const request = { system: 'You write notes.', prompt: 'x'.repeat(3_000), maxTokens: 1_024 };

  it('reserves estimates of input and output, then counts what the answer says was used', async () => {
    const clock = fakeClock();
    const { options, items } = pacingWith(clock, { requests: 1_000, input_tokens: 450_000, output_tokens: 90_000 });
    const estimate = estimateInputTokens(request);
    expect(estimate).toBeGreaterThan(3_000 / 4); // more than the stand-in's (and most English text's) four characters a token

    const reserved: Cost[] = [];
    const model = recordingModel({ model: 'claude-sonnet-4-6', input_tokens: 900, output_tokens: 150 });
    const spy: LanguageModel = { ...model, write: async (r) => (reserved.push({ ...[...items.values()].at(-1) }), model.write(r)) };
    const paced = withModelPacing(spy, options);
    await paced.write(request);
    // Output: a quarter of max_tokens before any answer was seen.
    expect(reserved[0]).toEqual({ requests: 1, input_tokens: estimate, output_tokens: 256 });
    expect([...items.values()]).toEqual([{ requests: 1, input_tokens: 900, output_tokens: 150 }]);

    // Then half again what answers used: 150 of 1,024, so 225.
    clock.now += 60_000;
    await paced.write(request);
    expect(reserved[1]).toEqual({ requests: 1, input_tokens: estimate, output_tokens: 225 });
  });

  it('counts cache writes against the input-token limit and cache reads not, as Anthropic does', async () => {
    const clock = fakeClock();
    const { options, items } = pacingWith(clock, { requests: 1_000, input_tokens: 450_000, output_tokens: 90_000 });
    const model = recordingModel({ model: 'claude-sonnet-4-6', input_tokens: 300, output_tokens: 150, cache_write_tokens: 1_200, cache_read_tokens: 0 });
    await withModelPacing(model, options).write(request);
    clock.now += 60_000;
    const reading = recordingModel({ model: 'claude-sonnet-4-6', input_tokens: 300, output_tokens: 150, cache_write_tokens: 0, cache_read_tokens: 1_200 });
    await withModelPacing(reading, options).write(request);
    expect([...items.values()].map((item) => item.input_tokens)).toEqual([1_500, 300]);
  });

  it('retries an outage as the SDK would have (twice), each attempt paced, and gives back a failed call’s output', async () => {
    const clock = fakeClock();
    const { options, items } = pacingWith(clock, { requests: 1_000, output_tokens: 90_000 }, { unavailableRetries: 2 });
    const outage = () => new ProviderError('ProviderUnavailable', 'anthropic', 'HTTP 500');
    const model = recordingModel(undefined, [outage(), outage(), outage()]);
    await expect(withModelPacing(model, options).write(request)).rejects.toMatchObject({ name: 'ProviderUnavailable' });
    expect(model.calls).toBe(3);
    expect(clock.sleeps).toHaveLength(2);
    // Three requests counted; no output tokens held for answers that never came.
    const totals = { requests: 0, output: 0 };
    for (const item of items.values()) {
      totals.requests += item.requests ?? 0;
      totals.output += item.output_tokens ?? 0;
    }
    expect(totals).toEqual({ requests: 3, output: 0 });
  });
});
