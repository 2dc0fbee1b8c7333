import type { Schemas } from '../../api/client';
import type { Database, Target } from './platform-status';

type LaunchInput = Schemas['LaunchPlatformInput'];
type PortKey = keyof Schemas['PlatformPortsInput'];
type Ports = Schemas['PlatformPortsDto'];
/** The API's default host ports with and without TLS (GET /platforms/launch-defaults). */
export type LaunchDefaults = Schemas['LaunchDefaultsDto'];
type OptionKey = keyof Schemas['PlatformOptionsInput'];

export interface LaunchForm {
  name: string;
  target: Target;
  credentialId: string | undefined;
  spaceId: string | undefined;
  database: Database;
  dataVolumeGb: number;
  /** Days of readings kept; null keeps them all. */
  readingsRetentionDays: number | null;
  tls: boolean;
  /** Comma-separated device user names. */
  deviceUsers: string;
  ports: Partial<Record<PortKey, string>>;
  options: Partial<Record<OptionKey, string>>;
}

export interface OptionField {
  key: OptionKey;
  label: string;
  placeholder: string;
  help?: string;
  optional?: boolean;
}

export const TARGETS: { label: string; value: Target; help: string }[] = [
  { label: 'SSH host', value: 'ssh-host', help: 'A Linux server you already have' },
  { label: 'AWS', value: 'aws', help: 'An EC2 VM in one of your spaces' },
  { label: 'Google Cloud', value: 'gcp', help: 'A Compute Engine VM; no space needed' },
  { label: 'OpenStack', value: 'openstack', help: 'A VM in one of your OpenStack spaces' },
];

export const DATABASES: { label: string; value: Database; help: string }[] = [
  {
    label: 'PostgreSQL',
    value: 'postgres',
    help: 'A readings table (time, measurement, device, data jsonb); query it with SQL.',
  },
  {
    label: 'TimescaleDB',
    value: 'timescaledb',
    help: 'PostgreSQL with the readings table as a hypertable: faster time-range queries.',
  },
  {
    label: 'InfluxDB 1.x',
    value: 'influxdb',
    help: 'Measurements and fields in line protocol; query with InfluxQL.',
  },
  {
    label: 'MongoDB',
    value: 'mongodb',
    help: 'A time-series collection of reading documents.',
  },
];

/** Instance options per target; field names are the API's. */
export const OPTION_FIELDS: Record<Target, OptionField[]> = {
  aws: [{ key: 'instanceType', label: 'Instance type', placeholder: 't3.small', optional: true }],
  gcp: [
    { key: 'region', label: 'Region', placeholder: 'europe-west1' },
    { key: 'zone', label: 'Zone', placeholder: 'first zone that is up', optional: true },
    { key: 'machineType', label: 'Machine type', placeholder: 'e2-small', optional: true },
  ],
  openstack: [
    { key: 'flavorName', label: 'Flavor', placeholder: 'm1.small' },
    { key: 'imageName', label: 'Image', placeholder: 'Ubuntu 24.04' },
  ],
  'ssh-host': [
    {
      key: 'dataDevice',
      label: 'Data device',
      placeholder: '/dev/sdb',
      help: 'A block device for the data: formatted if blank, then mounted. Leave empty to use the host disk.',
      optional: true,
    },
  ],
};

export const PORT_LABELS: Record<PortKey, string> = {
  amqp: 'AMQP',
  amqps: 'AMQPS',
  mqtt: 'MQTT',
  mqtts: 'MQTTS',
  rabbitmqManagement: 'RabbitMQ management',
  grafana: 'Grafana',
};

/** The order the port fields are shown in. */
const PORT_ORDER: PortKey[] = ['amqp', 'amqps', 'mqtt', 'mqtts', 'grafana', 'rabbitmqManagement'];

/** The default host ports for the TLS choice; none until the defaults are loaded. */
export function defaultPorts(defaults: LaunchDefaults | undefined, tls: boolean): Partial<Ports> {
  if (!defaults) return {};
  return tls ? defaults.portsWithTls : defaults.portsWithoutTls;
}

/**
 * The ports a platform listens on (the TLS pair or the plain pair, plus the web UIs): those the
 * API publishes by default, with the default as placeholder.
 */
export function portFields(
  ports: Partial<Ports>,
): { key: PortKey; label: string; placeholder: string; standard: number }[] {
  return PORT_ORDER.flatMap((key) => {
    const standard = ports[key];
    if (standard === null || standard === undefined) return [];
    return [{ key, label: PORT_LABELS[key], placeholder: String(standard), standard }];
  });
}

/** Shown next to the TLS switch while it is off. */
export function plainPortsWarning(tls: boolean): string | null {
  return tls
    ? null
    : 'Without TLS, device passwords and readings cross the network in plain text and Grafana ' +
        'is served over plain HTTP. Turn TLS off only on a network you trust.';
}

export function needsSpace(target: Target): boolean {
  return target === 'aws' || target === 'openstack';
}

/** Cloud VMs get a data volume of this size; SSH hosts use their own disk or data device. */
/**
 * What the form can tell is missing before asking the API, all at once (not one per press):
 * field key → message, empty when nothing is.
 */
export function missingLaunchFields(form: LaunchForm): Record<string, string> {
  const missing: Record<string, string> = {};
  if (!form.name.trim()) missing.name = 'Enter a name for the platform';
  if (!form.credentialId) missing.credentialId = 'Choose a credential of this kind';
  if (needsSpace(form.target) && !form.spaceId) missing.spaceId = 'Choose a space';
  return missing;
}

export function hasDataVolume(target: Target): boolean {
  return target !== 'ssh-host';
}

export function defaultLaunchForm(): LaunchForm {
  return {
    name: '',
    target: 'ssh-host',
    credentialId: undefined,
    spaceId: undefined,
    database: 'postgres',
    dataVolumeGb: 20,
    readingsRetentionDays: null,
    // On unless the user turns it off: devices send their passwords over these ports.
    tls: true,
    deviceUsers: 'device-1',
    ports: {},
    options: {},
  };
}

/** POST /platforms body: only what matters for the target, blanks left to the API's defaults. */
export function toLaunchInput(form: LaunchForm, ports: Partial<Ports>): LaunchInput {
  const input: LaunchInput = {
    name: form.name.trim(),
    target: form.target,
    credentialId: form.credentialId ?? '',
    database: form.database,
    dataVolumeGb: hasDataVolume(form.target) ? form.dataVolumeGb : 20,
    tls: form.tls,
    deviceUsers: form.deviceUsers
      .split(',')
      .map((user) => user.trim())
      .filter(Boolean),
  };
  if (form.readingsRetentionDays !== null) input.readingsRetentionDays = form.readingsRetentionDays;
  if (needsSpace(form.target)) input.spaceId = form.spaceId ?? '';
  const options: Schemas['PlatformOptionsInput'] = {};
  for (const field of OPTION_FIELDS[form.target]) {
    const value = form.options[field.key]?.trim();
    if (value) options[field.key] = value;
    else if (!field.optional) options[field.key] = '';
  }
  if (Object.keys(options).length > 0) input.options = options;
  if (form.target === 'ssh-host') {
    const chosen: Schemas['PlatformPortsInput'] = {};
    for (const { key } of portFields(ports)) {
      const value = form.ports[key]?.trim();
      if (value) chosen[key] = Number(value);
    }
    if (Object.keys(chosen).length > 0) input.ports = chosen;
  }
  return input;
}

type HostPlatform = Pick<Schemas['PlatformDto'], 'target' | 'credentialId' | 'ports'>;
type HostCredential = Pick<Schemas['CredentialDto'], 'id' | 'host' | 'port'>;

/**
 * The host ports the user's platforms already publish on the SSH host `credentialId` reaches
 * (through any credential for the same host and SSH port), so the form can propose others.
 */
export function portsHeldOnHost(
  credentialId: string | undefined,
  credentials: readonly HostCredential[],
  platforms: readonly HostPlatform[],
): Set<number> {
  const target = (c: HostCredential) => `${(c.host ?? '').toLowerCase()}:${c.port ?? 22}`;
  const chosen = credentials.find((c) => c.id === credentialId);
  if (!chosen) return new Set();
  const sameHost = new Set(
    credentials.filter((c) => target(c) === target(chosen)).map((c) => c.id),
  );
  return new Set(
    platforms
      .filter((p) => p.target === 'ssh-host' && sameHost.has(p.credentialId))
      .flatMap((p) => Object.values(p.ports).filter((port): port is number => port !== null)),
  );
}

/**
 * Free ports for a platform on a host that already runs some: each taken standard port moves
 * up in steps of 10 (5671 → 5681) until free. Free standard ports stay blank (the API default).
 */
export function proposeFreePorts(
  ports: Partial<Ports>,
  held: ReadonlySet<number>,
): Partial<Record<PortKey, string>> {
  const taken = new Set(held);
  const proposal: Partial<Record<PortKey, string>> = {};
  for (const { key, standard } of portFields(ports)) {
    let port = standard;
    if (!taken.has(port)) {
      taken.add(port);
      continue;
    }
    while (taken.has(port)) port += 10;
    taken.add(port);
    proposal[key] = String(port);
  }
  return proposal;
}
