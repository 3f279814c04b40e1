/**
 * The benchmark's provider rates: options to set the limits a run paces to (and to have the stand-ins enforce them),
 * and the rate each provider actually saw, from the arrival times the stand-ins record.
 */
import { DEFAULT_PROVIDER_LIMITS, PROVIDER_LIMIT_ENVIRONMENT } from '../lambdas/core/provider-limits';
import type { LocalRuntime, LocalRuntimeOptions } from '../local/runtime';
import { peakInWindow } from '../local/stand-ins/rate-limits';

export const rateOptions = {
  // The deployment's limits (CDK context), per minute; unset, the defaults of lambdas/core/provider-limits.ts.
  'search-rpm': { type: 'string' },
  'llm-rpm': { type: 'string' },
  'llm-itpm': { type: 'string' },
  'llm-otpm': { type: 'string' },
  // The stand-ins answer 429 (with retry-after) above the same limits, as the providers would.
  'enforce-limits': { type: 'boolean', default: false },
} as const;

type RateValues = { 'search-rpm'?: string; 'llm-rpm'?: string; 'llm-itpm'?: string; 'llm-otpm'?: string; 'enforce-limits'?: boolean };

export function pacingRuntimeOptions(values: RateValues): Pick<LocalRuntimeOptions, 'context' | 'standInLimits'> {
  const search = Number(values['search-rpm'] ?? DEFAULT_PROVIDER_LIMITS.searchRequestsPerMinute);
  const llm = Number(values['llm-rpm'] ?? DEFAULT_PROVIDER_LIMITS.llmRequestsPerMinute);
  return {
    context: {
      searchRequestsPerMinute: search,
      llmRequestsPerMinute: llm,
      llmInputTokensPerMinute: Number(values['llm-itpm'] ?? DEFAULT_PROVIDER_LIMITS.llmInputTokensPerMinute),
      llmOutputTokensPerMinute: Number(values['llm-otpm'] ?? DEFAULT_PROVIDER_LIMITS.llmOutputTokensPerMinute),
    },
    ...(values['enforce-limits'] ? { standInLimits: { tavily: { requestsPerMinute: search }, anthropic: { requestsPerMinute: llm } } } : {}),
  };
}

/** Lines for the report; call before the runtime stops (the configured limits are read from its environment). */
export function rateReport(runtime: LocalRuntime): string[] {
  const log = runtime.standInLog();
  if (!log) return ['  request rates:      (real providers: no stand-in log)'];
  const configured = {
    tavily: process.env[PROVIDER_LIMIT_ENVIRONMENT.searchRequestsPerMinute],
    anthropic: process.env[PROVIDER_LIMIT_ENVIRONMENT.llmRequestsPerMinute],
  };
  return (['tavily', 'anthropic'] as const).map((provider) => {
    const arrivals = log[provider].map((r) => r.at);
    const throttled = log[provider].filter((r) => r.status === 429).length;
    const minutes = arrivals.length > 1 ? (arrivals.at(-1)! - arrivals[0]!) / 60_000 : 0;
    const mean = minutes > 0 ? Math.round(arrivals.length / minutes) : arrivals.length;
    return (
      `  ${`${provider} rate:`.padEnd(20)}peak ${peakInWindow(arrivals)} in any 60 s, mean ${mean}/min ` +
      `(limit ${configured[provider] ?? 'none'}/min; ${arrivals.length} requests, ${throttled} answered 429)`
    );
  });
}
