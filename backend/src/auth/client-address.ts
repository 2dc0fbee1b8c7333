import { isIPv4, isIPv6 } from 'node:net';

/**
 * The part of a client address that rate limits count by. An IPv6 client usually holds a whole
 * /64 and can pick a new address from it for every request, so IPv6 addresses count by their /64;
 * IPv4 (also when written IPv4-mapped, `::ffff:a.b.c.d`) by the full address.
 */
export function rateLimitAddress(ip: string | null): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip) || !isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
