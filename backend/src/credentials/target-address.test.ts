import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/app-config';
import { classifyAddress, refusalOf } from './target-address';

describe('target address classes', () => {
  it.each([
    ['169.254.169.254', 'metadata'],
    ['169.254.0.1', 'metadata'],
    ['fe80::1', 'metadata'],
    ['febf:ffff::1', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['fd00:0ec2:0000::0254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['10.20.30.40', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.20', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['fc00::1', 'private'],
    ['172.32.0.1', 'public'],
    ['169.255.0.1', 'public'],
    ['203.0.113.10', 'public'],
    ['2001:db8::1', 'public'],
    ['fec0::1', 'public'],
  ])('%s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it('refuses metadata always, loopback and private as configured', () => {
    const everything = { allowLoopback: true, allowPrivate: true };
    const nothing = { allowLoopback: false, allowPrivate: false };
    expect(refusalOf('169.254.169.254', everything)).toMatch(/metadata/);
    expect(refusalOf('fd00:ec2::254', everything)).toMatch(/metadata/);
    expect(refusalOf('127.0.0.1', everything)).toBeNull();
    expect(refusalOf('127.0.0.1', nothing)).toMatch(/ALLOW_LOOPBACK_TARGETS/);
    expect(refusalOf('10.0.0.1', everything)).toBeNull();
    expect(refusalOf('10.0.0.1', nothing)).toMatch(/ALLOW_PRIVATE_TARGETS/);
    expect(refusalOf('203.0.113.10', nothing)).toBeNull();
  });

  it('allows private targets and refuses loopback unless the operator says otherwise', () => {
    expect(loadConfig({}).targetAddresses).toEqual({ allowLoopback: false, allowPrivate: true });
    expect(
      loadConfig({ ALLOW_LOOPBACK_TARGETS: 'true', ALLOW_PRIVATE_TARGETS: 'false' })
        .targetAddresses,
    ).toEqual({ allowLoopback: true, allowPrivate: false });
    expect(() => loadConfig({ ALLOW_LOOPBACK_TARGETS: 'yes' })).toThrow(
      /ALLOW_LOOPBACK_TARGETS must be true or false/,
    );
  });
});
