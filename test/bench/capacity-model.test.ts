/** The capacity model's arithmetic: which limit binds, what a target needs, and the local benchmark's yardstick. */
import { describe, expect, it } from 'vitest';
import { idealMakespanSeconds, predict, requirementsFor, type AwsPrices, type CompanyProfile, type Latencies, type Limits } from '../../bench/capacity-model';

const profile: CompanyProfile = {
  meanIterations: 1,
  maxIterations: 2,
  searchesPerCompany: 3,
  llmCallsPerCompany: 2,
  inputTokensPerCompany: 2_000,
  outputTokensPerCompany: 400,
  providerUsdPerCompany: 0.02,
};
// 1 s search + 2 × 4 s model calls + 1 s between steps = 10 s per iteration.
const latencies: Latencies = { searchMs: 1_000, llmMs: 4_000, overheadPerIterationMs: 1_000, batchFixedMs: 5_000 };
const limits: Limits = {
  mapConcurrency: 100,
  lambdaConcurrency: 1_000,
  searchRequestsPerMinute: 1_000,
  llmRequestsPerMinute: 4_000,
  llmInputTokensPerMinute: 2_000_000,
  llmOutputTokensPerMinute: 400_000,
  stateTransitionsPerSecond: 5_000,
  transitionsPerIteration: 5,
  transitionsPerCompany: 3,
};
const prices: AwsPrices = { lambdaGbSecondUsd: 0.00001, lambdaRequestUsd: 0, stateTransitionUsd: 0, researchMemoryGb: 1, extractionMemoryGb: 1, shortStepMemoryGb: 1 };

describe('the capacity model', () => {
  it('finds the binding limit: the search rate for 1,000 companies on one production key', () => {
    const p = predict(1_000, profile, latencies, limits, prices);
    expect(p.meanCompanySeconds).toBe(10);
    expect(p.longestCompanySeconds).toBe(20);
    // 3,000 searches at 1,000 a minute: 180 s; 1,000 × 10 s over 100 slots: 100 s.
    expect(p.bounds.find((b) => b.name.startsWith('companies at once'))!.seconds).toBe(100);
    expect(p.binding).toEqual({ name: 'search requests/min', seconds: 180 });
    expect(p.makespanSeconds).toBe(185);
  });

  it('is bound by concurrency once the provider allows more, and by the longest company for a few companies', () => {
    expect(predict(1_000, profile, latencies, { ...limits, searchRequestsPerMinute: 100_000 }, prices).binding.name).toBe('companies at once (100)');
    expect(predict(5, profile, latencies, limits, prices).binding).toEqual({ name: 'longest company', seconds: 20 });
  });

  it('bills the Lambda seconds spent waiting on providers', () => {
    // Per iteration: research 1 s search + 1 notes call × 4 s; extraction 4 s; short steps 1 s — 10 GB-s at 1 GB each.
    expect(predict(1, profile, latencies, limits, prices).usdPerCompany.aws).toBeCloseTo(10 * 0.00001, 10);
  });

  it('says what a 60 s target needs, and when no limit can reach it', () => {
    const needs = requirementsFor(60, 1_000, profile, latencies, limits)!;
    const need = (prefix: string) => needs.find((n) => n.what.startsWith(prefix))!;
    // 55 usable seconds: 10,000 company-seconds need 182 at once; 3,000 searches need 3,273 a minute.
    expect(need('Distributed Map').needed).toBe(182);
    expect(need('search requests').needed).toBe(3_273);
    expect(need('model requests').needed).toBeLessThan(limits.llmRequestsPerMinute);
    expect(requirementsFor(20, 1_000, profile, latencies, limits)).toBeUndefined();
  });

  it('measures a local run against the best any schedule could do', () => {
    expect(idealMakespanSeconds([10, 10, 10, 10], 2)).toBe(20);
    expect(idealMakespanSeconds([30, 1, 1], 2)).toBe(30);
    expect(idealMakespanSeconds([], 10)).toBe(0);
  });
});
