/**
 * GET /webhooks/secret: the caller's webhook signing secret (made on first use), and how deliveries are signed,
 * so the receiver behind a job's callback_url can check that a delivery came from Dossier.
 */
import { SIGNATURE_HEADER, SIGNATURE_TOLERANCE_SECONDS } from '../core/webhook-signature';
import { NO_CALLER, callerOf, httpHandler, json } from '../shared/http';
import { webhookSecret } from '../shared/webhooks';

export const handler = httpHandler(async (event) => {
  const caller = callerOf(event);
  if (!caller) return NO_CALLER();
  return json(200, {
    secret: await webhookSecret(caller),
    signature_header: SIGNATURE_HEADER,
    scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>; refuse deliveries older than ${SIGNATURE_TOLERANCE_SECONDS} s`,
  });
}, { emitsMetrics: false });
