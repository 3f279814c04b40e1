/**
 * Faults at rates in the three stand-ins, seen through the real SDKs: what each adapter makes of a throttle, an
 * overload, a slow answer and a cut-off body, and which SDKs retry on their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnthropicModel } from '../../lambdas/providers/anthropic-model';
import { createGoogleSearch } from '../../lambdas/providers/google-search';
import { ProviderError } from '../../lambdas/providers/provider-error';
import { createTavilySearch } from '../../lambdas/providers/tavily-search';
import { startAnthropicStandIn } from '../../local/stand-ins/anthropic-stand-in';
import { createFaultDice, FAULT_KINDS } from '../../local/stand-ins/fault-rates';
import type { StandIn } from '../../local/stand-ins/faults';
import { startGeminiStandIn, type GeminiStandIn } from '../../local/stand-ins/gemini-stand-in';
import { startTavilyStandIn } from '../../local/stand-ins/tavily-stand-in';

const documents = [
  { url: 'https://kestrel-looms.example/about', title: 'Kestrel Looms — About', content: 'Kestrel Looms weaves fabrics.\n\n- Founded: 1998' },
];

describe('fault dice', () => {
  const bodies = Array.from({ length: 4_000 }, (_, i) => `{"query":"company ${i}"}`);

  it('gives the same requests the same faults for the same seed, whatever order they come in', () => {
    const rates = { throttled: 0.1, error: 0.1, overloaded: 0.05, slow: 0.05, malformed: 0.05, seed: 42 };
    const inOrder = createFaultDice(rates);
    const reversed = createFaultDice(rates);
    const forwards = bodies.map((b) => inOrder.roll(b));
    const backwards = [...bodies].reverse().map((b) => reversed.roll(b)).reverse();
    expect(backwards).toEqual(forwards);
    const otherSeed = createFaultDice({ ...rates, seed: 43 });
    expect(bodies.map((b) => otherSeed.roll(b))).not.toEqual(forwards);
  });

  it('injects each kind at about its rate, and counts what it injected', () => {
    const dice = createFaultDice({ throttled: 0.2, error: 0.1, malformed: 0.05, seed: 7 });
    for (const body of bodies) dice.roll(body);
    expect(dice.injected.throttled / bodies.length).toBeCloseTo(0.2, 1);
    expect(dice.injected.error / bodies.length).toBeCloseTo(0.1, 1);
    expect(dice.injected.malformed / bodies.length).toBeCloseTo(0.05, 1);
    expect(dice.injected.overloaded + dice.injected.slow).toBe(0);
  });

  it('draws afresh for a repeated request, as for a retry', () => {
    const dice = createFaultDice({ error: 0.5, seed: 3 });
    const draws = Array.from({ length: 40 }, () => dice.roll('the same body'));
    expect(new Set(draws)).toEqual(new Set(['error', undefined]));
  });

  it('only picks requests that match, and stops at its limit', () => {
    const dice = createFaultDice({ malformed: 1, match: 'Tallowmere', limit: 2 });
    expect(dice.roll('{"query":"Brightgull"}')).toBeUndefined();
    expect([1, 2, 3].map(() => dice.roll('{"query":"tallowmere payments"}'))).toEqual(['malformed', 'malformed', undefined]);
  });

  it('refuses rates that are not chances', () => {
    expect(() => createFaultDice({ error: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => createFaultDice({ error: 0.6, throttled: 0.6 })).toThrow(/more than 1/);
    expect(FAULT_KINDS).toEqual(['throttled', 'error', 'overloaded', 'slow', 'malformed']);
  });
});

let tavily: StandIn;
let anthropic: StandIn;
let gemini: GeminiStandIn;

beforeAll(async () => {
  // Each kind of fault is keyed to a word in the request, so the tests do not draw from each other's share.
  tavily = await startTavilyStandIn({ documents, apiKey: 'tvly-test', randomFaults: { malformed: 1, match: 'garbled' } });
  anthropic = await startAnthropicStandIn({ apiKey: 'sk-test', randomFaults: { throttled: 1, match: 'busy', limit: 2 } });
  gemini = await startGeminiStandIn({ documents, apiKey: 'gemini-test', randomFaults: { malformed: 1, match: 'garbled' } });
});

afterAll(async () => {
  await tavily?.close();
  await anthropic?.close();
  await gemini?.close();
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const notes = (prompt: string) => ({ system: 'Write notes.', prompt, maxTokens: 256 });

describe('a body cut off part way', () => {
  it('is an outage of that provider (retried by the state machine), for every adapter', async () => {
    const fromTavily = await failure(createTavilySearch({ apiKey: 'tvly-test', baseUrl: tavily.url }).search('Kestrel Looms garbled', { maxResults: 3 }));
    expect(fromTavily).toMatchObject({ name: 'ProviderUnavailable', provider: 'tavily' });
    const fromGemini = await failure(createGoogleSearch({ apiKey: 'gemini-test', baseUrl: gemini.url }).search('Kestrel Looms garbled', { maxResults: 3 }));
    expect(fromGemini).toMatchObject({ name: 'ProviderUnavailable', provider: 'google' });
    expect(fromGemini.message).toMatch(/unreadable answer/);

    const cut = await startAnthropicStandIn({ apiKey: 'sk-test', randomFaults: { malformed: 1 } });
    try {
      const model = createAnthropicModel({ apiKey: 'sk-test', model: 'claude-sonnet-4-6', baseUrl: cut.url, maxRetries: 2 });
      const fromAnthropic = await failure(model.write(notes('anything')));
      expect(fromAnthropic).toMatchObject({ name: 'ProviderUnavailable', provider: 'anthropic' });
      // The SDK does not retry a 200, however broken: that is left to the state machine.
      expect(cut.requests).toBe(1);
    } finally {
      await cut.close();
    }
  });
});

describe('a throttle with retry-after', () => {
  it('is retried by the Anthropic SDK itself, which then succeeds', async () => {
    const before = anthropic.requests;
    const model = createAnthropicModel({ apiKey: 'sk-test', model: 'claude-sonnet-4-6', baseUrl: anthropic.url, maxRetries: 2 });
    const { text } = await model.write(notes('busy: <source id="1" url="https://a.example" title="A">\n- Founded: 1998\n</source>'));
    expect(text).toContain('Founded: 1998');
    expect(anthropic.requests - before).toBe(3);
  });
});

describe('an overloaded provider', () => {
  it('is a throttle for Anthropic (529) and an outage for Gemini (503)', async () => {
    const overloaded = await startAnthropicStandIn({ apiKey: 'sk-test', randomFaults: { overloaded: 1 } });
    const geminiOverloaded = await startGeminiStandIn({ documents, apiKey: 'gemini-test', randomFaults: { overloaded: 1 } });
    try {
      const model = createAnthropicModel({ apiKey: 'sk-test', model: 'claude-sonnet-4-6', baseUrl: overloaded.url, maxRetries: 1 });
      expect((await failure(model.write(notes('anything')))).name).toBe('ProviderThrottled');
      expect(overloaded.requests).toBe(2);
      const search = createGoogleSearch({ apiKey: 'gemini-test', baseUrl: geminiOverloaded.url });
      const error = await failure(search.search('Kestrel Looms', { maxResults: 3 }));
      expect(error.name).toBe('ProviderUnavailable');
      expect(error.message).toMatch(/503 UNAVAILABLE: The model is overloaded/);
    } finally {
      await overloaded.close();
      await geminiOverloaded.close();
    }
  });
});

describe('a slow answer', () => {
  it('arrives late but whole when the client waits, and is an outage when the client gives up first', async () => {
    const slow = await startGeminiStandIn({ documents, apiKey: 'gemini-test', randomFaults: { slow: 1, slowMs: 20, match: 'patient' } });
    const stalled = await startGeminiStandIn({ documents, apiKey: 'gemini-test', randomFaults: { slow: 1, slowMs: 60_000 } });
    try {
      const patient = createGoogleSearch({ apiKey: 'gemini-test', baseUrl: slow.url });
      expect((await patient.search('Kestrel Looms patient', { maxResults: 3 })).hits).toHaveLength(1);
      expect(slow.injected.slow).toBe(1);
      // A minute's delay against a 200 ms deadline: the outcome does not hang on the machine's speed.
      const hasty = createGoogleSearch({ apiKey: 'gemini-test', baseUrl: stalled.url, timeoutMs: 200 });
      const error = await failure(hasty.search('Kestrel Looms', { maxResults: 3 }));
      expect(error).toMatchObject({ name: 'ProviderUnavailable', provider: 'google' });
      expect(error.message).toMatch(/no answer within 200 ms/);
    } finally {
      await slow.close();
      await stalled.close();
    }
  });
});
