/**
 * Outbound HTTP to addresses a caller chose (a company's site, a job's webhook) through undici, connecting only to
 * public addresses. Apart from the pure checks in private-addresses.ts, so that the many functions that only check a
 * URL do not load undici or build an Agent when they start.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent } from 'undici';
import { isPrivateAddress } from './private-addresses';

/** A DNS lookup that fails for a name with any private address among its answers. */
export function publicOnlyLookup(host: string, options: object, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void): void {
  dnsLookup(host, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) return callback(new Error(`${host} resolves to a private address (${refused.address})`), []);
    callback(null, addresses);
  });
}

/**
 * An undici dispatcher that connects only to public addresses: what a host name resolves to is checked as the
 * connection is made, so a name cannot be pointed at a private address after it was checked. Node skips the lookup
 * for an address literal: check those with isPrivateAddress before the request.
 */
export const publicOnlyDispatcher = new Agent({ connect: { lookup: publicOnlyLookup } });

/** fetch's error says only "fetch failed"; its cause says why (refused, timed out, a private address). */
export function fetchFailure(error: unknown): string {
  const cause = (error as Error & { cause?: Error }).cause?.message;
  return `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
}
