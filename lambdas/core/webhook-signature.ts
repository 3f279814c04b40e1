/**
 * How Dossier signs a webhook, and how a receiver checks it: HMAC-SHA256 over "<timestamp>.<body>" with the
 * client's signing secret, sent as `Dossier-Signature: t=<unix seconds>,v1=<hex>`. The timestamp is inside what is
 * signed, so a receiver can refuse an old delivery replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'dossier-signature';
/** Each client's signing secret is a Secrets Manager secret under this prefix; functions may touch only these. */
export const WEBHOOK_SECRET_PREFIX = 'dossier/webhooks/';
export const EVENT_HEADER = 'dossier-event';
/** How old a delivery a receiver should still accept. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const digest = (secret: string, timestamp: number, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

export function signatureHeader(secret: string, body: string, now: Date): string {
  const timestamp = Math.floor(now.getTime() / 1000);
  return `t=${timestamp},v1=${digest(secret, timestamp, body)}`;
}

/** Why a delivery does not verify, or undefined when it does. For receivers, and for our tests. */
export function signatureProblem(secret: string, body: string, header: string | undefined, now: Date): string | undefined {
  if (!header) return `no ${SIGNATURE_HEADER} header`;
  const parts = Object.fromEntries(header.split(',').map((p) => p.trim().split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || !parts.v1) return `${SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex>`;
  if (Math.abs(now.getTime() / 1000 - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return 'the signature is too old (or from the future)';
  const expected = Buffer.from(digest(secret, timestamp, body), 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the signature does not match';
  return undefined;
}
