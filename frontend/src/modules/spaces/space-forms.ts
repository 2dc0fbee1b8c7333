import type { Schemas } from '../../api/client';

export type SpaceTarget = Schemas['CreateSpaceInput']['target'];

export interface SpaceField {
  /** The option's name in the API (`options.<key>` in validation errors). */
  key: string;
  label: string;
  placeholder?: string;
  help?: string;
  /** Comma-separated in the form, a list in the request. */
  list?: boolean;
  optional?: boolean;
  /** OpenStack: only in this mode. */
  mode?: 'existing' | 'create';
}

export const SPACE_TARGETS: { label: string; value: SpaceTarget }[] = [
  { label: 'AWS', value: 'aws' },
  { label: 'OpenStack', value: 'openstack' },
];

export const OPENSTACK_MODES = [
  { label: 'Use a network that exists', value: 'existing' },
  { label: 'Create a network and router', value: 'create' },
];

const ACCESS: SpaceField[] = [
  {
    key: 'ingressCidrs',
    label: 'Who may reach the broker and Grafana',
    placeholder: '0.0.0.0/0',
    help: 'Comma-separated CIDRs',
    list: true,
    optional: true,
  },
  {
    key: 'sshCidrs',
    label: 'Who may reach SSH',
    placeholder: '0.0.0.0/0',
    help: "Narrow it to this server's address when you can",
    list: true,
    optional: true,
  },
];

export const SPACE_FIELDS: Record<SpaceTarget, SpaceField[]> = {
  aws: [
    { key: 'region', label: 'Region', placeholder: 'eu-west-1' },
    {
      key: 'availabilityZone',
      label: 'Availability zone',
      placeholder: 'first available',
      optional: true,
    },
    { key: 'vpcCidr', label: 'VPC CIDR', placeholder: '10.42.0.0/16', optional: true },
    { key: 'subnetCidr', label: 'Subnet CIDR', placeholder: '10.42.1.0/24', optional: true },
    ...ACCESS,
  ],
  openstack: [
    {
      key: 'externalPool',
      label: 'External network (floating IPs)',
      placeholder: 'public',
    },
    { key: 'region', label: 'Region', placeholder: 'from the credential', optional: true },
    { key: 'networkName', label: 'Network', placeholder: 'private', mode: 'existing' },
    {
      key: 'securityGroupName',
      label: 'Security group',
      placeholder: 'fieldstation',
      help: 'It must allow SSH and the broker ports',
      mode: 'existing',
    },
    {
      key: 'subnetCidr',
      label: 'Subnet CIDR',
      placeholder: '10.43.1.0/24',
      optional: true,
      mode: 'create',
    },
    {
      key: 'dnsNameservers',
      label: 'DNS servers',
      placeholder: '1.1.1.1, 9.9.9.9',
      list: true,
      optional: true,
      mode: 'create',
    },
    ...ACCESS.map((field) => ({ ...field, mode: 'create' as const })),
  ],
};

export function visibleFields(target: SpaceTarget, mode: string): SpaceField[] {
  return SPACE_FIELDS[target].filter((field) => !field.mode || field.mode === mode);
}

/** The `options` object of POST /spaces: blanks left out (the API fills its defaults). */
export function toSpaceOptions(
  target: SpaceTarget,
  mode: string,
  values: Record<string, string>,
): Record<string, unknown> {
  const options: Record<string, unknown> = target === 'openstack' ? { mode } : {};
  for (const field of visibleFields(target, mode)) {
    const value = values[field.key]?.trim() ?? '';
    if (value === '') {
      if (!field.optional) options[field.key] = '';
      continue;
    }
    options[field.key] = field.list
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
      : value;
  }
  return options;
}
