/**
 * Provider failures, named so the state machine's Retry policies can tell them apart:
 * the error's `name` becomes the Step Functions error name of the failed Lambda task.
 */
export type ProviderErrorName = 'ProviderThrottled' | 'ProviderUnavailable' | 'ProviderRejected';

export class ProviderError extends Error {
  /** How long the provider asked callers to wait (a `retry-after` header, or Google's RetryInfo), when it said. */
  readonly retryAfterSeconds?: number;

  constructor(
    override readonly name: ProviderErrorName,
    readonly provider: string,
    message: string,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(`${provider}: ${message}`);
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** Throttling and outages pass; a rejected request (bad key, bad input) fails the same way again. */
  get retryable(): boolean {
    return this.name !== 'ProviderRejected';
  }
}

/** Maps an HTTP status to the kind of failure it means for retrying. */
export function errorNameForStatus(status: number | undefined): ProviderErrorName {
  if (status === 429) return 'ProviderThrottled';
  if (status === undefined || status >= 500 || status === 408) return 'ProviderUnavailable';
  return 'ProviderRejected';
}
