/**
 * Where an agent may send push notifications. A webhook URL is chosen by the caller and fetched by us, so without
 * a rule it could point the agent at the Lambda's own network neighbourhood (SSRF). Deployed: https only, and no
 * host that names this machine or a private, loopback or link-local address. `npm run serve` and the tests receive
 * webhooks on localhost, so they allow it explicitly.
 */
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { PushNotificationStore, ServerCallContext } from '@a2a-js/sdk/server';
import { isInternalHostName, isPrivateAddress } from '../shared/private-addresses';

/** Why a push URL may not be used, or undefined when it may. */
export function pushUrlProblem(raw: string, options: { allowPrivate: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `push notification url "${raw}" is not an absolute URL`;
  }
  if (options.allowPrivate) return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'push notification url must be http(s)';
  if (url.protocol !== 'https:') return 'push notification url must use https';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isInternalHostName(host)) return `push notification url may not name ${host}`;
  if (isPrivateAddress(host)) {
    return `push notification url may not point at a private, loopback or link-local address (${host})`;
  }
  return undefined;
}

/** A push-notification store that refuses, with JSON-RPC -32602, a webhook the policy does not allow. */
export function withPushUrlPolicy(store: PushNotificationStore, options: { allowPrivate: boolean }): PushNotificationStore {
  return {
    load: (taskId, context) => store.load(taskId, context),
    delete: (taskId, context, configId) => store.delete(taskId, context, configId),
    ...(store.loadWithMetadata ? { loadWithMetadata: (taskId: string, context: ServerCallContext) => store.loadWithMetadata!(taskId, context) } : {}),
    async save(taskId, context, config) {
      const problem = pushUrlProblem(config.url, options);
      if (problem) throw new RequestMalformedError(problem);
      return store.save(taskId, context, config);
    },
  };
}
