import type { Schemas } from '../../api/client';

export type CredentialType = 'aws' | 'gcp' | 'openstack' | 'ssh-host';

export interface CredentialField {
  key: string;
  label: string;
  kind?: 'text' | 'secret' | 'number' | 'file' | 'textarea' | 'choice';
  placeholder?: string;
  optional?: boolean;
  choices?: { label: string; value: string }[];
  /** Show only when another field has a given value. */
  when?: { key: string; equals: string };
}

export const CREDENTIAL_TYPES: { label: string; value: CredentialType }[] = [
  { label: 'AWS', value: 'aws' },
  { label: 'Google Cloud', value: 'gcp' },
  { label: 'OpenStack', value: 'openstack' },
  { label: 'SSH host', value: 'ssh-host' },
];

/** One form per type; field keys are the API's field names. */
export const CREDENTIAL_FORMS: Record<CredentialType, CredentialField[]> = {
  aws: [
    { key: 'region', label: 'Region', placeholder: 'eu-central-1' },
    { key: 'accessKeyId', label: 'Access key id', kind: 'secret' },
    { key: 'secretAccessKey', label: 'Secret access key', kind: 'secret' },
  ],
  gcp: [
    { key: 'serviceAccountJson', label: 'Service-account key file (JSON)', kind: 'file' },
    { key: 'project', label: 'Project id', placeholder: 'from the key file', optional: true },
  ],
  openstack: [
    { key: 'authUrl', label: 'Auth URL', placeholder: 'https://keystone.example.org:5000/v3' },
    { key: 'username', label: 'Username' },
    { key: 'password', label: 'Password', kind: 'secret' },
    { key: 'projectName', label: 'Project' },
    { key: 'domain', label: 'Domain', placeholder: 'Default', optional: true },
    { key: 'region', label: 'Region', placeholder: 'RegionOne', optional: true },
  ],
  'ssh-host': [
    { key: 'host', label: 'Host', placeholder: '203.0.113.10' },
    { key: 'port', label: 'Port', kind: 'number', placeholder: '22', optional: true },
    { key: 'username', label: 'User', placeholder: 'ubuntu' },
    {
      key: 'auth',
      label: 'Sign in with',
      kind: 'choice',
      choices: [
        { label: 'My Fieldstation SSH key', value: 'generated-key' },
        { label: 'A private key I upload', value: 'uploaded-key' },
      ],
    },
    {
      key: 'privateKey',
      label: 'Private key (OpenSSH, unencrypted)',
      kind: 'textarea',
      when: { key: 'auth', equals: 'uploaded-key' },
    },
  ],
};

/** A short line describing where a credential points, for the list. */
export function credentialSummary(credential: Schemas['CredentialDto']): string {
  switch (credential.type) {
    case 'aws':
      return `${credential.region} · key …${credential.accessKeyIdHint}`;
    case 'gcp':
      return `${credential.project} · ${credential.clientEmail}`;
    case 'openstack':
      return `${credential.projectName} @ ${credential.authUrl}`;
    default:
      return `${credential.username}@${credential.host}:${credential.port}`;
  }
}

export type CredentialInput =
  | Schemas['AwsCredentialInput']
  | Schemas['GcpCredentialInput']
  | Schemas['OpenstackCredentialInput']
  | Schemas['SshHostCredentialInput'];

/** The request body of the chosen type: empty optional fields left out, numbers as numbers. */
export function toRequestBody(
  type: CredentialType,
  name: string,
  values: Record<string, string>,
): CredentialInput {
  const text = (key: string) => values[key]?.trim() ?? '';
  const optional = (key: string) => text(key) || undefined;
  switch (type) {
    case 'aws':
      return {
        type,
        name,
        region: text('region'),
        accessKeyId: text('accessKeyId'),
        secretAccessKey: text('secretAccessKey'),
      };
    case 'gcp':
      return {
        type,
        name,
        serviceAccountJson: text('serviceAccountJson'),
        project: optional('project'),
      };
    case 'openstack':
      return {
        type,
        name,
        authUrl: text('authUrl'),
        username: text('username'),
        password: text('password'),
        projectName: text('projectName'),
        domain: optional('domain'),
        region: optional('region'),
      };
    case 'ssh-host': {
      const auth = values.auth === 'uploaded-key' ? 'uploaded-key' : 'generated-key';
      const port = optional('port');
      return {
        type,
        name,
        host: text('host'),
        port: port === undefined ? undefined : Number(port),
        username: text('username'),
        auth,
        privateKey: auth === 'uploaded-key' ? text('privateKey') : undefined,
      };
    }
  }
}
