import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

/** What the operator allows Fieldstation to connect to besides public addresses. */
export type TargetAddressRules = AppConfig['targetAddresses'];

export type AddressClass = 'metadata' | 'loopback' | 'private' | 'public';

/** IPv4 ranges also match as IPv4-mapped IPv6 (::ffff:a.b.c.d), which reaches the same host. */
function ranges(ipv4: [string, number][], ipv6: [string, number][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ipv4) {
    list.addSubnet(network, prefix, 'ipv4');
    list.addSubnet(`::ffff:${network}`, 96 + prefix, 'ipv6');
  }
  for (const [network, prefix] of ipv6) list.addSubnet(network, prefix, 'ipv6');
  return list;
}

// Checked in this order: fd00:ec2::254 lies inside fc00::/7, 100.100.100.200 inside 100.64/10.
const CLASSES: [Exclude<AddressClass, 'public'>, BlockList][] = [
  [
    // Link-local holds the metadata services of AWS, GCP, Azure and OpenStack (169.254.169.254);
    // fd00:ec2::254 is AWS's IPv6 one, 100.100.100.200 Alibaba Cloud's.
    'metadata',
    ranges(
      [
        ['169.254.0.0', 16],
        ['100.100.100.200', 32],
      ],
      [
        ['fe80::', 10],
        ['fd00:ec2::254', 128],
      ],
    ),
  ],
  [
    // 0.0.0.0 and :: connect to the local host on Linux.
    'loopback',
    ranges(
      [
        ['127.0.0.0', 8],
        ['0.0.0.0', 8],
      ],
      [
        ['::1', 128],
        ['::', 128],
      ],
    ),
  ],
  [
    'private',
    ranges(
      [
        ['10.0.0.0', 8],
        ['172.16.0.0', 12],
        ['192.168.0.0', 16],
        ['100.64.0.0', 10],
      ],
      [['fc00::', 7]],
    ),
  ],
];

export function classifyAddress(ip: string): AddressClass {
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  return CLASSES.find(([, list]) => list.check(ip, family))?.[0] ?? 'public';
}

const REFUSALS: Record<Exclude<AddressClass, 'public'>, string> = {
  metadata: 'a link-local or cloud metadata address, which Fieldstation never connects to',
  loopback: 'a loopback address, which this server does not allow (ALLOW_LOOPBACK_TARGETS)',
  private: 'a private-network address, which this server does not allow (ALLOW_PRIVATE_TARGETS)',
};

/** Why an address is refused under the rules, or null when it may be connected to. */
export function refusalOf(ip: string, rules: TargetAddressRules): string | null {
  const found = classifyAddress(ip);
  if (found === 'public') return null;
  if (found === 'loopback' && rules.allowLoopback) return null;
  if (found === 'private' && rules.allowPrivate) return null;
  return REFUSALS[found];
}

/**
 * Keeps the hosts Fieldstation connects to on a user's behalf (an ssh-host, an OpenStack auth
 * URL) away from this server's own surroundings. A name is resolved the way the SSH client and
 * Ansible resolve it (getaddrinfo), and every address it has must pass. A name that does not
 * resolve passes: nothing can connect to it either, and the check runs again before each use.
 */
@Injectable()
export class TargetAddresses {
  private readonly rules: TargetAddressRules;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.rules = config.targetAddresses;
  }

  /** Throws a 400 `code` naming `field` when `host` (a name or an IP) is or resolves to a refused address. */
  async assertAllowed(field: string, code: string, host: string): Promise<void> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(bare) !== 0;
    const addresses = literal ? [bare] : await resolved(bare);
    for (const address of addresses) {
      const refusal = refusalOf(address, this.rules);
      if (refusal) {
        const message = `${field} ${literal ? 'is' : 'resolves to'} ${refusal}`;
        throw new ApiError(HttpStatus.BAD_REQUEST, code, message, [{ field, problems: [message] }]);
      }
    }
  }
}

async function resolved(name: string): Promise<string[]> {
  try {
    return (await lookup(name, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
}
