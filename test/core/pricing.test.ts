import { describe, expect, it } from 'vitest';
import { zeroUsage, type ModelUsage, type Usage } from '../../lambdas/core/contracts';
import { costOf, DEFAULT_MODELS, llmUsd, modelPrice, PRICES, SEARCH_CREDIT_USD } from '../../lambdas/core/pricing';

const tokens = (t: Partial<ModelUsage>): ModelUsage => ({ input_tokens: 0, output_tokens: 0, cache_write_tokens: 0, cache_read_tokens: 0, ...t });

describe('the price table', () => {
  it('holds the list prices', () => {
    expect(modelPrice('claude-haiku-4-5')).toEqual({ input: 1, output: 5 });
    expect(modelPrice('claude-sonnet-4-6')).toEqual({ input: 3, output: 15 });
    expect(modelPrice('claude-opus-4-6')).toEqual({ input: 5, output: 25 });
    expect(PRICES.cacheWriteMultiplier).toBe(1.25);
    expect(PRICES.cacheReadMultiplier).toBe(0.1);
    expect(PRICES.tavilyCreditUsd).toBe(0.005);
    expect(SEARCH_CREDIT_USD).toBe(PRICES.tavilyCreditUsd);
    expect(PRICES.geminiGroundedPromptUsd).toBe(0.035);
    expect(PRICES.lambdaGbSecondUsd).toBe(0.0000133334);
    expect(PRICES.lambdaRequestUsd).toBe(0.0000002);
    expect(PRICES.stepFunctionsTransitionUsd).toBe(0.000025);
  });

  it('prices an unknown model as Sonnet, and names Haiku 4.5 and Sonnet 4.6 as the default models', () => {
    expect(modelPrice('some-new-model')).toEqual({ input: 3, output: 15 });
    expect(DEFAULT_MODELS).toEqual({ small: 'claude-haiku-4-5', large: 'claude-sonnet-4-6' });
  });
});

describe('llmUsd', () => {
  it('bills input, output, cache writes at 1.25× input and cache reads at 0.1× input', () => {
    expect(llmUsd('claude-sonnet-4-6', tokens({ input_tokens: 1_000_000 }))).toBeCloseTo(3, 10);
    expect(llmUsd('claude-sonnet-4-6', tokens({ output_tokens: 1_000_000 }))).toBeCloseTo(15, 10);
    expect(llmUsd('claude-sonnet-4-6', tokens({ cache_write_tokens: 1_000_000 }))).toBeCloseTo(3.75, 10);
    expect(llmUsd('claude-sonnet-4-6', tokens({ cache_read_tokens: 1_000_000 }))).toBeCloseTo(0.3, 10);
    expect(llmUsd('claude-haiku-4-5', tokens({ cache_read_tokens: 1_000_000 }))).toBeCloseTo(0.1, 10);
  });
});

describe('costOf', () => {
  it('adds search, every model, Lambda and Step Functions, each part rounded to a millionth', () => {
    const usage: Usage = {
      search_queries: 3,
      search_credits: 4,
      llm: {
        'claude-haiku-4-5': tokens({ input_tokens: 2_000, output_tokens: 200 }),
        'claude-sonnet-4-6': tokens({ input_tokens: 300, output_tokens: 250, cache_read_tokens: 1_000 }),
      },
      lambda_gb_seconds: 2,
    };
    const cost = costOf(usage, 2);
    // 4 credits × $0.005.
    expect(cost.search_usd).toBe(0.02);
    // Haiku 2,000 × $1/M + 200 × $5/M = $0.003; Sonnet 300 × $3/M + 250 × $15/M + 1,000 × $0.30/M = $0.00495.
    expect(cost.llm_usd).toBe(0.00795);
    // 2 GB-s measured + 2 rounds × 0.025 + 0.025 estimated = 2.075 GB-s; 7 requests.
    expect(cost.lambda_usd).toBe(Math.round((2.075 * 0.0000133334 + 7 * 0.0000002) * 1e6) / 1e6);
    // 5 transitions a round.
    expect(cost.step_functions_usd).toBe(0.00025);
    expect(cost.usd).toBeCloseTo(cost.search_usd + cost.llm_usd + cost.lambda_usd + cost.step_functions_usd, 6);
  });

  it('is nothing for a company that never ran', () => {
    expect(costOf(zeroUsage(), 0)).toEqual({ usd: 0, search_usd: 0, llm_usd: 0, lambda_usd: 0, step_functions_usd: 0 });
  });
});
