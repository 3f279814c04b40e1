/**
 * Job webhooks: when a job ends, Dossier POSTs its summary to the `callback_url` the client gave, signed with the
 * client's signing secret (lambdas/core/webhook-signature.ts). Each client has one secret in Secrets Manager,
 * made on first use; GET /webhooks/secret shows it to its owner. Failed deliveries are retried with backoff.
 */
import { randomBytes } from 'node:crypto';
import { CreateSecretCommand, GetSecretValueCommand, ResourceExistsException, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fetch } from 'undici';
import type { JobView } from '../core/contracts';
import { EVENT_HEADER, SIGNATURE_HEADER, WEBHOOK_SECRET_PREFIX, signatureHeader } from '../core/webhook-signature';
import { fetchFailure, publicOnlyDispatcher } from './public-fetch';


let client: SecretsManagerClient | undefined;
const secretsClient = () => (client ??= new SecretsManagerClient({}));
const cache = new Map<string, string>();

/** Secrets Manager names allow letters, digits and /_+=.@-: a token's subject is kept readable, anything else encoded. */
export function webhookSecretName(clientId: string): string {
  return `${WEBHOOK_SECRET_PREFIX}${clientId.replace(/[^A-Za-z0-9_+=.@-]/g, (c) => `-${c.charCodeAt(0).toString(16)}-`)}`;
}

export async function webhookSecret(clientId: string): Promise<string> {
  const cached = cache.get(clientId);
  if (cached) return cached;
  const name = webhookSecretName(clientId);
  let value: string | undefined;
  try {
    value = (await secretsClient().send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    const fresh = `whsec_${randomBytes(32).toString('base64url')}`;
    try {
      await secretsClient().send(new CreateSecretCommand({ Name: name, SecretString: fresh, Description: `Dossier webhook signing secret of ${clientId}` }));
      value = fresh;
    } catch (raced) {
      // Two first uses at once: the other one's secret is the secret.
      if (!(raced instanceof ResourceExistsException)) throw raced;
      value = (await secretsClient().send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
    }
  }
  if (!value) throw new Error(`the webhook secret ${name} is empty`);
  cache.set(clientId, value);
  return value;
}

export interface WebhookDelivery {
  url: string;
  status: 'delivered' | 'failed';
  attempts: number;
  last_status_code?: number;
  last_error?: string;
  at: string;
}

export interface DeliveryPolicy {
  attempts: number;
  baseDelayMs: number;
  timeoutMs: number;
  /** Local runs only: webhooks on this machine. Deployed, a webhook host that resolves to a private address is not called. */
  allowPrivateAddresses?: boolean;
}
export const DEFAULT_DELIVERY: DeliveryPolicy = { attempts: 5, baseDelayMs: 1_000, timeoutMs: 10_000 };

/** One POST per attempt; a 2xx ends it, anything else (or no answer) is tried again after a growing, jittered wait. */
export async function deliverJobWebhook(url: string, job: JobView, secret: string, policy: DeliveryPolicy = DEFAULT_DELIVERY): Promise<WebhookDelivery> {
  const body = JSON.stringify({ event: 'job.ended', job });
  let lastStatus: number | undefined;
  let lastError: string | undefined;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signatureHeader(secret, body, new Date()), [EVENT_HEADER]: 'job.ended' },
        body,
        signal: AbortSignal.timeout(policy.timeoutMs),
        redirect: 'manual',
        // The URL was checked when the job was submitted; its name is checked again as it resolves now.
        dispatcher: policy.allowPrivateAddresses ? undefined : publicOnlyDispatcher,
      });
      lastStatus = response.status;
      lastError = undefined;
      if (response.ok) return { url, status: 'delivered', attempts: attempt, last_status_code: response.status, at: new Date().toISOString() };
    } catch (error) {
      lastStatus = undefined;
      lastError = fetchFailure(error);
    }
    if (attempt < policy.attempts) await new Promise((resolve) => setTimeout(resolve, Math.random() * policy.baseDelayMs * 2 ** (attempt - 1)));
  }
  return { url, status: 'failed', attempts: policy.attempts, ...(lastStatus ? { last_status_code: lastStatus } : {}), ...(lastError ? { last_error: lastError } : {}), at: new Date().toISOString() };
}
