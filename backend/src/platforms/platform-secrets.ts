import { createHmac } from 'node:crypto';
import { generateStackSecrets, type StackSecrets } from '@fieldstation/platform-stack';
import type { DataKey } from '../crypto/data-key';
import type { Platform } from './platform.entity';

const STACK_SECRET_FIELDS: readonly (keyof StackSecrets)[] = [
  'brokerAdminPassword',
  'processorBrokerPassword',
  'databasePassword',
  'processorDatabasePassword',
  'grafanaDatabasePassword',
  'grafanaAdminPassword',
];

/** Secrets added after platforms existed: derived for those platforms (see `stack()`). */
const DERIVED_FOR_OLDER_PLATFORMS: ReadonlySet<keyof StackSecrets> = new Set([
  'processorDatabasePassword',
  'grafanaDatabasePassword',
]);

/** Sealed field names of the TLS material generated for the broker. */
export const TLS_FIELDS = {
  caPrivateKey: 'tlsCaPrivateKey',
  serverCertificate: 'tlsServerCertificate',
  serverPrivateKey: 'tlsServerPrivateKey',
} as const;

/**
 * Every generated secret of a new platform, in plain text, keyed by sealed field name. Device
 * passwords live in the device registry (`devices/`), not here.
 */
export function generatePlatformSecrets(): Record<string, string> {
  return { ...generateStackSecrets() };
}

export function sealSecrets(
  dataKey: DataKey,
  platformId: string,
  plain: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(plain).map(([field, value]) => [
      field,
      dataKey.sealField(platformId, field, value),
    ]),
  );
}

/** Opens a platform's secrets: only in a request that has the data key, or a granted job. */
export class PlatformSecrets {
  constructor(
    private readonly platform: Pick<Platform, 'id' | 'secrets'>,
    private readonly dataKey: DataKey,
  ) {}

  field(name: string): string | undefined {
    const sealed = this.platform.secrets[name];
    return sealed === undefined
      ? undefined
      : this.dataKey.openField(this.platform.id, name, sealed);
  }

  /**
   * Platforms created before the database had least-privileged roles have no sealed password for
   * them: theirs is derived from the platform's database password with HMAC-SHA256 (one-way, so a
   * role's password does not reveal the superuser's), stable across deployments.
   */
  stack(): StackSecrets {
    return Object.fromEntries(
      STACK_SECRET_FIELDS.map((name) => {
        const value = this.field(name);
        if (value !== undefined || !DERIVED_FOR_OLDER_PLATFORMS.has(name)) {
          return [name, value ?? this.required(name)];
        }
        const derived = createHmac('sha256', this.required('databasePassword'))
          .update(`fieldstation:${name}`)
          .digest('base64url')
          .slice(0, 32);
        return [name, derived];
      }),
    ) as unknown as StackSecrets;
  }

  required(name: string): string {
    const value = this.field(name);
    if (value === undefined) throw new Error(`Platform ${this.platform.id} has no secret ${name}`);
    return value;
  }
}
