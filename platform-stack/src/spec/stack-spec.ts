import { randomBytes } from 'node:crypto';
import { DEFAULT_IMAGES, type StackImages } from './images';
import { defaultStackPorts, type StackPorts } from './ports';
import { readScriptTemplate } from './script-template';
import type { ReadingAlertRule } from '../grafana/render-alerting';

export type { StackPorts } from './ports';

export type DatabaseChoice = 'influxdb' | 'postgres' | 'timescaledb' | 'mongodb';
export const DATABASE_CHOICES: readonly DatabaseChoice[] = [
  'influxdb',
  'postgres',
  'timescaledb',
  'mongodb',
];

export interface DeviceUser {
  /** Broker username a device logs in with (AMQP or MQTT). */
  name: string;
  /** Null: no password login (a certificate-only device logs in with its client certificate). */
  password: string | null;
  /** May also publish to MyT's fanout exchange `data`, which cannot be restricted by routing key. */
  legacyFanout?: boolean;
}

/** Generated once per platform, stored encrypted by the backend, rendered only into files that need them. */
export interface StackSecrets {
  brokerAdminPassword: string;
  processorBrokerPassword: string;
  /** The database's superuser (PostgreSQL `postgres`, InfluxDB `admin`, MongoDB root): setup only. */
  databasePassword: string;
  /** The processor's database role: insert into the readings table, nothing else. */
  processorDatabasePassword: string;
  /** Grafana's database role: read the readings table, nothing else. */
  grafanaDatabasePassword: string;
  grafanaAdminPassword: string;
}

/** PEM material for the broker's TLS listeners (see rabbitmq/certificates.ts). */
export interface BrokerTls {
  caCertificatePem: string;
  serverCertificatePem: string;
  serverPrivateKeyPem: string;
  /**
   * The CA's certificate revocation list (`createRevocationList`, PEM). When given, the broker
   * checks every client certificate against it (revoked or renewed-away certificates refused);
   * without it client certificates are checked against the CA only.
   */
  revocationListPem?: string;
}

export interface ProcessorSpec {
  /** The user's script (ES module source exporting `process`). */
  scriptSource: string;
  /** npm packages the script needs: name → exact version. */
  packages: Record<string, string>;
  scriptTimeoutMs: number;
  batchSize: number;
}

/** Everything that decides what runs on one platform's VM. */
export interface StackSpec {
  /** Public IP or DNS name of the VM; the broker certificate's subject alternative name. */
  address: string;
  database: DatabaseChoice;
  /** Host directory of the mounted data volume; every service keeps its data below it. */
  dataPath: string;
  /** TLS material when the broker's TLS listeners are on; absent means TLS off. */
  tls?: BrokerTls;
  ports: StackPorts;
  images: StackImages;
  secrets: StackSecrets;
  deviceUsers: DeviceUser[];
  processor: ProcessorSpec;
  /** Thresholds on readings that Grafana evaluates (its alerting provisioning); absent: none. */
  readingAlerts?: ReadingAlertRule[];
  /**
   * Grafana uids of reading thresholds deleted and not yet confirmed gone (Fieldstation keeps
   * them): rendered as `deleteRules`, since Grafana keeps a provisioned rule that merely
   * disappears from the file. Absent: none.
   */
  deletedReadingAlertUids?: string[];
}

export type StackSpecInput = Pick<StackSpec, 'address' | 'database' | 'secrets'> &
  Partial<
    Omit<StackSpec, 'address' | 'database' | 'secrets' | 'ports' | 'images' | 'processor'>
  > & {
    ports?: Partial<StackPorts>;
    images?: Partial<StackImages>;
    processor?: Partial<ProcessorSpec>;
  };

export const ADMIN_USER = 'fieldstation-admin';
export const PROCESSOR_USER = 'fieldstation-processor';
export const DATABASE_NAME = 'telemetry';
/** Least-privileged database roles (PostgreSQL/TimescaleDB and InfluxDB users). */
export const PROCESSOR_DATABASE_ROLE = 'fieldstation_processor';
export const GRAFANA_DATABASE_ROLE = 'fieldstation_grafana';

/** Fills in defaults; with TLS on, the plaintext broker ports are unpublished unless given. */
export function createStackSpec(input: StackSpecInput): StackSpec {
  const tlsOn = input.tls !== undefined;
  const spec: StackSpec = {
    address: input.address,
    database: input.database,
    dataPath: input.dataPath ?? '/srv/fieldstation/data',
    tls: input.tls,
    ports: { ...defaultStackPorts(tlsOn), ...input.ports },
    images: { ...DEFAULT_IMAGES, ...input.images },
    secrets: input.secrets,
    deviceUsers: input.deviceUsers ?? [],
    readingAlerts: input.readingAlerts ?? [],
    deletedReadingAlertUids: input.deletedReadingAlertUids ?? [],
    processor: {
      packages: {},
      scriptTimeoutMs: 1000,
      batchSize: 1000,
      ...input.processor,
      scriptSource: input.processor?.scriptSource ?? readScriptTemplate(),
    },
  };
  validateStackSpec(spec);
  return spec;
}

export class InvalidStackSpecError extends Error {
  override readonly name = 'InvalidStackSpecError';
}

const HOST_NAME =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/**
 * A device name is the last segment of its routing key and RabbitMQ puts it into permission
 * regexes unescaped (`{username}`), so it has no "." and nothing else a regex or a routing key
 * gives a meaning to.
 */
export const DEVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
// Image references: registry/name:tag or @sha256 digests; no whitespace or shell characters.
const IMAGE = /^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?(@sha256:[a-f0-9]{64})?$/;

export function validateStackSpec(spec: StackSpec): void {
  const fail = (message: string): never => {
    throw new InvalidStackSpecError(message);
  };
  if (!IPV4.test(spec.address) && !HOST_NAME.test(spec.address))
    fail('address must be an IPv4 address or a DNS name');
  if (!DATABASE_CHOICES.includes(spec.database))
    fail(`database must be one of ${DATABASE_CHOICES.join(', ')}`);
  if (
    !spec.dataPath.startsWith('/') ||
    spec.dataPath.includes('..') ||
    /[\s:]/.test(spec.dataPath)
  ) {
    fail('dataPath must be an absolute path without "..", spaces or colons');
  }
  const published = Object.entries(spec.ports).filter(([, port]) => port !== null) as [
    string,
    number,
  ][];
  for (const [name, port] of published) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      fail(`port ${name} must be between 1 and 65535`);
  }
  if (new Set(published.map(([, port]) => port)).size !== published.length)
    fail('two services publish the same port');
  if (!spec.tls && (spec.ports.amqps !== null || spec.ports.mqtts !== null))
    fail('TLS ports need TLS material');
  for (const [name, image] of Object.entries(spec.images)) {
    if (!IMAGE.test(image)) fail(`image ${name} is not a valid image reference`);
  }
  for (const [name, value] of Object.entries(spec.secrets)) {
    // URL-safe characters only: secrets are substituted into connection URLs and the .env file.
    if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{16,128}$/.test(value)) {
      fail(`secret ${name} must be 16 to 128 characters of A-Z, a-z, 0-9, "_" or "-"`);
    }
  }
  const names = new Set<string>([ADMIN_USER, PROCESSOR_USER]);
  for (const user of spec.deviceUsers) {
    if (!DEVICE_NAME.test(user.name))
      fail(`device user "${user.name}" must be letters, digits, "-" or "_" (at most 64)`);
    if (names.has(user.name)) fail(`device user "${user.name}" is taken`);
    if (user.password !== null && user.password.length < 12)
      fail(`device user "${user.name}" needs a password of at least 12 characters`);
    names.add(user.name);
  }
  for (const [name, version] of Object.entries(spec.processor.packages)) {
    if (!PACKAGE_NAME.test(name)) fail(`"${name}" is not a valid npm package name`);
    if (!EXACT_VERSION.test(version))
      fail(`package "${name}" needs an exact version, not "${version}"`);
  }
}

/**
 * Random URL-safe secret, 32 characters (about 190 bits), starting with a letter or digit: a
 * spreadsheet opening a password export would take a leading `-` as a formula.
 */
export function generateSecret(): string {
  for (;;) {
    const secret = randomBytes(24).toString('base64url');
    if (/^[A-Za-z0-9]/.test(secret)) return secret;
  }
}

export function generateStackSecrets(): StackSecrets {
  return {
    brokerAdminPassword: generateSecret(),
    processorBrokerPassword: generateSecret(),
    databasePassword: generateSecret(),
    processorDatabasePassword: generateSecret(),
    grafanaDatabasePassword: generateSecret(),
    grafanaAdminPassword: generateSecret(),
  };
}
