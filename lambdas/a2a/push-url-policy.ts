/**
 * Where an agent may send push notifications. A webhook URL is chosen by the caller and fetched by us, so without
 * a rule it could point the agent at the Lambda's own network neighbourhood (SSRF). Deployed: https only, and no
 * host that names this machine or a private, loopback or link-local address. `npm run serve` and the tests receive
 * webhooks on localhost, so they allow it explicitly.
 */
import { isIP } from 'node:net';
import { RequestMalformedError } from '@a2a-js/sdk/errors';
import type { PushNotificationStore, ServerCallContext } from '@a2a-js/sdk/server';

const PRIVATE_V4 = [
  [0x0a000000, 8], // 10/8
  [0xac100000, 12], // 172.16/12
  [0xc0a80000, 16], // 192.168/16
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16, the instance metadata service among them
  [0x64400000, 10], // 100.64/10, carrier-grade NAT
  [0x00000000, 8], // 0/8
] as const;

function privateIPv4(address: string): boolean {
  const n = address.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
  return PRIVATE_V4.some(([base, bits]) => (n >>> (32 - bits)) === (base >>> (32 - bits)));
}

function privateIPv6(address: string): boolean {
  const a = address.toLowerCase();
  if (a === '::1' || a === '::') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return privateIPv4(mapped[1]!);
  // URL writes an IPv4-mapped address in hex (::ffff:a00:1 for 10.0.0.1).
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
    return privateIPv4(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  return /^f[cd]/.test(a) || /^fe[89ab]/.test(a); // unique local fc00::/7, link-local fe80::/10
}

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
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) return `push notification url may not name ${host}`;
  const family = isIP(host);
  if ((family === 4 && privateIPv4(host)) || (family === 6 && privateIPv6(host))) {
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
