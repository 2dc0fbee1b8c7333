import { lookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { HttpStatus, Inject, Injectable, Optional } from '@nestjs/common';
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

/** A name's addresses, as getaddrinfo answers them (the seam a test feeds its own answers through). */
export type ResolveHost = (name: string) => Promise<{ address: string; family: number }[]>;
export const HOST_RESOLVER = Symbol('HOST_RESOLVER');
const systemResolver: ResolveHost = (name) => lookup(name, { all: true, verbatim: true });

/** A connection refused before it was opened: the name is or resolves to a refused address. */
export class TargetRefusedError extends Error {
  override readonly name = 'TargetRefusedError';
}

/**
 * Keeps the hosts Fieldstation connects to on a user's behalf (an ssh-host, an OpenStack auth
 * URL) away from this server's own surroundings. A name is resolved the way the SSH client and
 * Ansible resolve it (getaddrinfo), and every address it has must pass. A name that does not
 * resolve passes: nothing can connect to it either, and the check runs again before each use.
 * Connections Fieldstation opens itself (webhook and ntfy deliveries) go through
 * `pinnedLookup`: resolved once, checked, and connected to exactly the checked addresses, so a
 * name cannot answer differently between the check and the connection (DNS rebinding).
 */
@Injectable()
export class TargetAddresses {
  private readonly rules: TargetAddressRules;
  private readonly resolve: ResolveHost;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'targetAddresses'>,
    @Optional() @Inject(HOST_RESOLVER) resolve?: ResolveHost,
  ) {
    this.rules = config.targetAddresses;
    this.resolve = resolve ?? systemResolver;
  }

  /** Throws a 400 `code` naming `field` when `host` (a name or an IP) is or resolves to a refused address. */
  async assertAllowed(field: string, code: string, host: string): Promise<void> {
    await this.allowedAddress(field, code, host);
  }

  /**
   * The same check, answering the first checked address: for a client with no lookup hook
   * (SMTP), which then connects to that address and verifies TLS against the name.
   */
  async allowedAddress(field: string, code: string, host: string): Promise<string> {
    const bare = host.replace(/^\[(.*)\]$/, '$1');
    const literal = isIP(bare) !== 0;
    const addresses = literal ? [bare] : await this.resolved(bare);
    const refusal = this.firstRefusal(field, literal, addresses);
    if (refusal) {
      throw new ApiError(HttpStatus.BAD_REQUEST, code, refusal, [{ field, problems: [refusal] }]);
    }
    return addresses[0]!;
  }

  /**
   * A socket `lookup` (node:http, node:net) that resolves the name once and answers only when
   * every address passes — else fails the connection with a TargetRefusedError naming `field`.
   * The socket connects to the addresses answered here; TLS SNI and Host stay the name.
   */
  pinnedLookup(field: string): LookupFunction {
    return (hostname, options, callback) => {
      const literal = isIP(hostname) !== 0;
      const answer = literal
        ? Promise.resolve([{ address: hostname, family: isIP(hostname) }])
        : this.resolve(hostname);
      answer.then(
        (entries) => {
          const wanted = entries.filter(
            (entry) => !options.family || entry.family === options.family,
          );
          const refusal = this.firstRefusal(
            field,
            literal,
            entries.map((entry) => entry.address),
          );
          if (refusal) return callback(new TargetRefusedError(refusal), '', 0);
          if (wanted.length === 0) {
            const error = Object.assign(new Error(`${hostname} does not resolve`), {
              code: 'ENOTFOUND',
            });
            return callback(error, '', 0);
          }
          if (options.all) return callback(null, wanted);
          return callback(null, wanted[0]!.address, wanted[0]!.family);
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      );
    };
  }

  private firstRefusal(field: string, literal: boolean, addresses: string[]): string | null {
    for (const address of addresses) {
      const refusal = refusalOf(address, this.rules);
      if (refusal) return `${field} ${literal ? 'is' : 'resolves to'} ${refusal}`;
    }
    return null;
  }

  private async resolved(name: string): Promise<string[]> {
    try {
      return (await this.resolve(name)).map((entry) => entry.address);
    } catch {
      return [];
    }
  }
}
