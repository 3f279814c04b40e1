/**
 * Two search providers as one (the seed's `hybrid`): queries take turns between them, and a query that one of
 * them throttles or fails to answer goes to the other, so a rate limit or an outage of one provider costs no
 * research while the other is up.
 */
import { ProviderError } from './provider-error';
import type { SearchProvider } from './search-provider';

/** Which failure the state machine should see when neither answered: throttling clears surely, so it waits longest. */
const RETRY_PREFERENCE = ['ProviderThrottled', 'ProviderUnavailable', 'ProviderRejected'] as const;

function asProviderError(error: unknown, provider: string): ProviderError {
  return error instanceof ProviderError ? error : new ProviderError('ProviderUnavailable', provider, (error as Error)?.message ?? String(error));
}

export interface HybridSearchOptions {
  /** Told when a query moves to the other provider (for logs and metrics). */
  onFallback?: (event: { query: string; from: string; to: string; error: ProviderError }) => void;
}

export function createHybridSearch(providers: readonly [SearchProvider, SearchProvider], options: HybridSearchOptions = {}): SearchProvider {
  let turn = 0;
  return {
    name: 'hybrid',
    async search(query, searchOptions) {
      // Round-robin rather than by query: the queries of one round always reach both providers.
      const first = providers[turn % 2]!;
      const second = providers[(turn + 1) % 2]!;
      turn += 1;
      let firstError: ProviderError;
      try {
        return await first.search(query, searchOptions);
      } catch (error) {
        firstError = asProviderError(error, first.name);
        // A rejected query (a bad key, a query the provider refuses) is a fault to see, not to hide behind the other.
        if (!firstError.retryable) throw firstError;
      }
      options.onFallback?.({ query, from: first.name, to: second.name, error: firstError });
      try {
        return await second.search(query, searchOptions);
      } catch (error) {
        const secondError = asProviderError(error, second.name);
        const [preferred, other] =
          RETRY_PREFERENCE.indexOf(secondError.name) < RETRY_PREFERENCE.indexOf(firstError.name) ? [secondError, firstError] : [firstError, secondError];
        throw new ProviderError(preferred.name, 'hybrid', `both providers failed: ${preferred.message}; ${other.message}`, preferred.retryAfterMs);
      }
    },
  };
}
