import { describe, expect, it } from 'vitest';
import { rateLimitAddress } from './client-address';

describe('rateLimitAddress', () => {
  it('counts IPv4 clients by their address, also when IPv4-mapped', () => {
    expect(rateLimitAddress('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitAddress('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitAddress(null)).toBe('unknown');
  });

  it('counts IPv6 clients by their /64, however the address is written', () => {
    const key = '2001:db8:aa:1::/64';
    expect(rateLimitAddress('2001:db8:aa:1::1')).toBe(key);
    expect(rateLimitAddress('2001:0db8:00aa:0001:dead:beef:0:7')).toBe(key);
    expect(rateLimitAddress('2001:DB8:AA:1:ffff::')).toBe(key);
    expect(rateLimitAddress('2001:db8:aa:2::1')).not.toBe(key);
    expect(rateLimitAddress('::1')).toBe('0:0:0:0::/64');
    expect(rateLimitAddress('fe80::1:2')).toBe('fe80:0:0:0::/64');
  });
});
