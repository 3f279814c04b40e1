/**
 * Addresses a request chosen by a caller must never reach (SSRF): private, loopback, link-local (the instance
 * metadata service among them) and carrier-grade NAT ranges. Webhook URLs and company sites are both checked here.
 */
import { isIP } from 'node:net';

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

/** True for an IP address in a range above; false for a public address and for anything that is not an IP. */
export function isPrivateAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  return (family === 4 && privateIPv4(bare)) || (family === 6 && privateIPv6(bare));
}

/** Host names that name this machine or its cloud's internals rather than a site. */
export const isInternalHostName = (host: string) => host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal');

