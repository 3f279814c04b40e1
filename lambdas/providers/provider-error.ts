/**
 * Provider failures, named so the state machine's Retry policies can tell them apart:
 * the error's `name` becomes the Step Functions error name of the failed Lambda task.
 */
export type ProviderErrorName = 'ProviderThrottled' | 'ProviderUnavailable' | 'ProviderRejected';

export class ProviderError extends Error {
  constructor(
    override readonly name: ProviderErrorName,
    readonly provider: string,
    message: string,
    /** How long the provider asked us to wait before trying again (`retry-after`, Google's RetryInfo), when it said. */
    readonly retryAfterMs?: number,
  ) {
    super(`${provider}: ${message}`);
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

/**
 * The wait a response asks for: `retry-after-ms` (Anthropic's, finer) or `retry-after` in seconds or as an HTTP date.
 * Undefined when neither is there or readable.
 */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, now: number = Date.now()): number | undefined {
  const millis = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(millis) && millis >= 0) return millis;
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
