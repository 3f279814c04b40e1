/**
 * Providers that keep to a rate limit shared by every concurrent agent (lambdas/providers/rate-limiter.ts): each
 * attempt first takes its place in the shared budget, so a batch slows down instead of drowning in 429s. A 429 that
 * still comes (another client on the same key, a provider counting differently) is retried here after at least the
 * `retry-after` the provider sent, as long as that fits the wait allowed; beyond it the ProviderThrottled goes up to
 * the state machine, whose Retry backs off for longer.
 */
import type { LanguageModel, StructuredRequest, TokenUsage, WriteRequest } from './language-model';
import { ProviderError } from './provider-error';
import type { Cost, RateLimiter } from './rate-limiter';
import type { SearchProvider } from './search-provider';

export interface PacingOptions {
  limiter: RateLimiter;
  /** The longest one call waits, for the shared limit and for retry-after together. */
  maxWaitMs: number;
  /** When waiting must end at the latest (ms since the epoch), e.g. the invocation's deadline less the call's time. */
  deadline?: () => number | undefined;
  /** Retries after a 429/529 here, each after the provider's retry-after (3 by default). */
  throttleRetries?: number;
  /** Retries after an outage (5xx, timeouts, dropped connections) here; none by default. */
  unavailableRetries?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Exponential from half a second, up to 8 s, less up to a quarter at random (the Anthropic SDK's own schedule). */
const backoffMs = (attempt: number, random: () => number) => Math.min(500 * 2 ** attempt, 8_000) * (1 - 0.25 * random());

async function pacedCall<T>(
  options: PacingOptions,
  cost: Cost,
  call: () => Promise<T>,
  used: (result: T) => Cost,
  usedWhenFailed: Cost,
): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? sleepFor;
  const random = options.random ?? Math.random;
  const bound = Math.min(now() + options.maxWaitMs, options.deadline?.() ?? Infinity);
  let throttles = 0;
  let outages = 0;
  for (;;) {
    const reservation = await options.limiter.acquire(cost, bound);
    let result: T;
    try {
      result = await call();
    } catch (error) {
      // A refused request may still count at the provider: it keeps its place, only unused output is given back.
      await reservation.settle(usedWhenFailed);
      if (!(error instanceof ProviderError)) throw error;
      let wait: number;
      if (error.name === 'ProviderThrottled' && throttles < (options.throttleRetries ?? 3)) {
        // At least what the provider asked for, plus a little so that callers told the same do not return together.
        wait =
          error.retryAfterMs !== undefined
            ? error.retryAfterMs + random() * Math.min(1_000, error.retryAfterMs / 4)
            : backoffMs(throttles, random);
        throttles += 1;
      } else if (error.name === 'ProviderUnavailable' && outages < (options.unavailableRetries ?? 0)) {
        wait = backoffMs(outages, random);
        outages += 1;
      } else {
        throw error;
      }
      // Waiting less than asked would only earn another 429: leave the wait to the state machine's retry.
      if (now() + wait > bound) throw error;
      await sleep(wait);
      continue;
    }
    await reservation.settle(used(result));
    return result;
  }
}

export function withSearchPacing(provider: SearchProvider, options: PacingOptions): SearchProvider {
  return {
    name: provider.name,
    search: (query, searchOptions) =>
      pacedCall(options, { requests: 1 }, () => provider.search(query, searchOptions), () => ({}), {}),
  };
}

/**
 * Input tokens a request will count, guessed before sending from its characters: three a token, more than English
 * text averages, so the guess is rarely short of the truth; the real count replaces it after the answer.
 */
export function estimateInputTokens(request: WriteRequest | StructuredRequest): number {
  const tool = 'inputSchema' in request ? JSON.stringify(request.inputSchema).length + request.toolDescription.length : 0;
  return Math.ceil((request.system.length + request.prompt.length + tool) / 3);
}

/**
 * Output tokens to reserve for a call: what answers have been using (half again the share of max_tokens they used so
 * far, a quarter before the first answer), never more than max_tokens. Not max_tokens itself, although Anthropic counts
 * that until the answer comes: settling gives unused tokens back to the slot they were reserved in, and a call that
 * outlasts its slot gives them back too late, so reserving max_tokens would cap output far below the limit. An answer
 * longer than its reservation is counted in full when it comes.
 */
function outputEstimator() {
  let asked = 0;
  let used = 0;
  return {
    estimate(maxTokens: number): number {
      const share = asked > 0 ? Math.min(1, Math.max(0.05, (1.5 * used) / asked)) : 0.25;
      return Math.max(1, Math.ceil(maxTokens * share));
    },
    observe(maxTokens: number, outputTokens: number) {
      asked += maxTokens;
      used += outputTokens;
    },
  };
}

export function withModelPacing(model: LanguageModel, options: PacingOptions): LanguageModel {
  const output = outputEstimator();
  const paced = <R extends { usage: TokenUsage }>(request: WriteRequest, call: () => Promise<R>) =>
    pacedCall(
      options,
      { requests: 1, input_tokens: estimateInputTokens(request), output_tokens: output.estimate(request.maxTokens) },
      call,
      ({ usage }) => {
        output.observe(request.maxTokens, usage.output_tokens);
        // Anthropic counts cache writes against the input-token limit and cache reads not (current models).
        return { input_tokens: usage.input_tokens + (usage.cache_write_tokens ?? 0), output_tokens: usage.output_tokens };
      },
      // A failed call produced no output.
      { output_tokens: 0 },
    );
  return {
    model: model.model,
    write: (request) => paced(request, () => model.write(request)),
    structured: (request) => paced(request, () => model.structured(request)),
  };
}
