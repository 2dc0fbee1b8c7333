import type { Schemas } from '../../api/client';

export type CredentialType = 'aws' | 'gcp' | 'openstack' | 'ssh-host' | 's3';

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
  { label: 'Object storage (S3)', value: 's3' },
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
  s3: [
    {
      key: 'endpoint',
      label: 'Endpoint URL',
      placeholder: 'https://s3.eu-central-1.amazonaws.com',
    },
    { key: 'region', label: 'Region', placeholder: 'us-east-1 for services without regions' },
    { key: 'bucket', label: 'Bucket', placeholder: 'fieldstation-backups' },
    { key: 'prefix', label: 'Key prefix', placeholder: 'backups/', optional: true },
    { key: 'accessKeyId', label: 'Access key', kind: 'secret' },
    { key: 'secretAccessKey', label: 'Secret key', kind: 'secret' },
    {
      key: 'pathStyle',
      label: 'Addressing',
      kind: 'choice',
      choices: [
        { label: 'Bucket in the path (MinIO, Ceph, B2, Wasabi)', value: 'path' },
        { label: 'Bucket in the host name (AWS)', value: 'virtual-host' },
      ],
    },
  ],
};

/** The values a new form of that type starts with (its choices preselected). */
export function initialValues(type: CredentialType): Record<string, string> {
  if (type === 'ssh-host') return { auth: 'generated-key' };
  if (type === 's3') return { pathStyle: 'path' };
  return {};
}

/** A short line describing where a credential points, for the list. */
export function credentialSummary(credential: Schemas['CredentialDto']): string {
  switch (credential.type) {
    case 'aws':
      return `${credential.region} · key …${credential.accessKeyIdHint}`;
    case 'gcp':
      return `${credential.project} · ${credential.clientEmail}`;
    case 'openstack':
      return `${credential.projectName} @ ${credential.authUrl}`;
    case 's3':
      return `${credential.bucket}/${credential.prefix ?? ''} @ ${credential.endpoint} · key …${credential.accessKeyIdHint}`;
    default:
      return `${credential.username}@${credential.host}:${credential.port}`;
  }
}

export type CredentialInput =
  | Schemas['AwsCredentialInput']
  | Schemas['GcpCredentialInput']
  | Schemas['OpenstackCredentialInput']
  | Schemas['SshHostCredentialInput']
  | Schemas['S3CredentialInput'];

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
    case 's3':
      return {
        type,
        name,
        endpoint: text('endpoint'),
        region: text('region'),
        bucket: text('bucket'),
        prefix: optional('prefix'),
        accessKeyId: text('accessKeyId'),
        secretAccessKey: text('secretAccessKey'),
        pathStyle: values.pathStyle !== 'virtual-host',
      };
  }
}

const STORAGE_STEPS = { write: 'writing', read: 'reading back', delete: 'deleting' } as const;

/** One line for a storage test: what worked, or the step that failed and the service's words. */
export function storageTestSummary(report: Schemas['StorageTestReportDto']): string {
  const seconds = (report.durationMs / 1000).toFixed(1);
  if (report.ok) {
    return `Connected in ${seconds} s. ${report.message}.`;
  }
  const step = report.failedStep ? ` ${STORAGE_STEPS[report.failedStep]} a test object` : '';
  return `Failed${step}${report.code ? ` (${report.code})` : ''}: ${report.message}`;
}
