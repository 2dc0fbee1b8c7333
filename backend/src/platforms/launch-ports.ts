import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { CredentialsService } from '../credentials/credentials.service';
import type { CredentialDto } from '../credentials/dto/credential.dto';
import type { PlatformRecords } from './platform-records';
import type { Platform } from './platform.entity';

type PlatformPorts = Platform['ports'];
type PortName = keyof PlatformPorts;

function published(ports: PlatformPorts): [PortName, number][] {
  return (Object.entries(ports) as [PortName, number | null][]).filter(
    (entry): entry is [PortName, number] => entry[1] !== null,
  );
}

/**
 * Two services of one launch on one host port would fail at configuring (the stack refuses
 * it): a 400 naming both fields instead.
 */
export function assertDistinctPorts(ports: PlatformPorts): void {
  const seen = new Map<number, PortName>();
  for (const [name, port] of published(ports)) {
    const first = seen.get(port);
    if (first) {
      const message = `ports.${first} and ports.${name} are both ${port}: each service needs its own port`;
      throw new ApiError(HttpStatus.BAD_REQUEST, 'DUPLICATE_PORT', message, [
        { field: `ports.${first}`, problems: [message] },
        { field: `ports.${name}`, problems: [message] },
      ]);
    }
    seen.set(port, name);
  }
}

/** host:port of the SSH login a credential reaches: platforms behind equal targets share ports. */
function sshTarget(credential: Pick<CredentialDto, 'host' | 'port'>): string {
  return `${(credential.host ?? '').toLowerCase()}:${credential.port ?? 22}`;
}

/**
 * The ports the user's other platforms (destroyed ones aside) publish on the SSH host of
 * `credential`, whichever of the user's credentials they reach it through.
 */
async function portsHeldOnHost(
  records: PlatformRecords,
  credentials: CredentialsService,
  userId: string,
  credential: CredentialDto,
  launchName: string,
) {
  const target = sshTarget(credential);
  const userCredentials = await credentials.list(userId, 'ssh-host');
  const sameHost = new Set(userCredentials.filter((c) => sshTarget(c) === target).map((c) => c.id));
  const platforms = (await records.listOwned(userId)).filter(
    (platform) =>
      platform.target === 'ssh-host' &&
      sameHost.has(platform.credentialId) &&
      // A platform of the launch's own name makes it a 409 for the name instead.
      platform.name !== launchName,
  );
  return platforms.flatMap((platform) =>
    published(platform.ports).map(([name, port]) => ({ port, name, platform })),
  );
}

/**
 * A second platform on one SSH host with the same ports would be queued and fail at
 * configuring ("port is already allocated"): a 409 naming the port and the platform holding it.
 */
export async function assertPortsFreeOnHost(
  records: PlatformRecords,
  credentials: CredentialsService,
  userId: string,
  launch: Pick<Platform, 'name' | 'ports' | 'target'>,
  credential: CredentialDto,
): Promise<void> {
  if (launch.target !== 'ssh-host') return;
  const held = await portsHeldOnHost(records, credentials, userId, credential, launch.name);
  for (const [name, port] of published(launch.ports)) {
    const holder = held.find((entry) => entry.port === port);
    if (!holder) continue;
    const message =
      `Port ${port} (ports.${name}) is already used on ${credential.host} by platform ` +
      `"${holder.platform.name}" (its ${holder.name}); choose another port`;
    throw new ApiError(HttpStatus.CONFLICT, 'PORT_IN_USE', message, [
      {
        field: `ports.${name}`,
        problems: [message],
        port,
        platform: { id: holder.platform.id, name: holder.platform.name, port: holder.name },
      },
    ]);
  }
}
