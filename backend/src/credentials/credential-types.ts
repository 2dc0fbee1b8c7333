import { HttpStatus } from '@nestjs/common';
import { utils } from 'ssh2';
import { ApiError } from '../common/api-error';
import type { CredentialType } from './credential.entity';
import {
  AwsCredentialInput,
  AwsCredentialUpdate,
  GcpCredentialInput,
  GcpCredentialUpdate,
  OpenstackCredentialInput,
  OpenstackCredentialUpdate,
  S3CredentialInput,
  S3CredentialUpdate,
  SshHostCredentialInput,
  SshHostCredentialUpdate,
} from './dto/credential-input.dto';

export type PublicFields = Record<string, string | number | boolean>;

/** What a type-specific check sees: merged public fields, new secrets, which are stored. */
export interface RefineInput {
  fields: PublicFields;
  newSecrets: Record<string, string>;
  hasStoredSecret: (field: string) => boolean;
}

interface CredentialTypeSpec {
  input: new () => object;
  update: new () => object;
  /** Fields sealed under the data key and never returned. */
  secretFields: readonly string[];
  /** The field naming a host Fieldstation connects to, checked by TargetAddresses. */
  /** The host a use of the credential connects to, from `field` (and the other public fields). */
  targetAddress?: {
    field: string;
    code: string;
    host: (value: string, fields: Record<string, unknown>) => string;
  };
  /** Cross-field checks, defaults and derived public fields; may drop stored secrets. */
  refine?: (input: RefineInput) => { fields: PublicFields; dropSecrets?: string[] };
}

const invalid = (code: string, message: string, field: string) =>
  new ApiError(HttpStatus.BAD_REQUEST, code, message, [{ field, problems: [message] }]);

/** Checks the shape a Google service-account key file has, without echoing its content. */
function parseServiceAccount(json: string): { projectId: string; clientEmail: string } {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw invalid(
      'INVALID_SERVICE_ACCOUNT',
      'serviceAccountJson is not valid JSON',
      'serviceAccountJson',
    );
  }
  if (parsed?.type !== 'service_account') {
    throw invalid(
      'INVALID_SERVICE_ACCOUNT',
      'serviceAccountJson must be a service-account key ("type": "service_account")',
      'serviceAccountJson',
    );
  }
  for (const key of ['project_id', 'client_email', 'private_key_id', 'private_key']) {
    if (typeof parsed[key] !== 'string' || !parsed[key]) {
      throw invalid(
        'INVALID_SERVICE_ACCOUNT',
        `serviceAccountJson lacks "${key}"`,
        'serviceAccountJson',
      );
    }
  }
  if (!(parsed.private_key as string).includes('PRIVATE KEY-----')) {
    throw invalid(
      'INVALID_SERVICE_ACCOUNT',
      'serviceAccountJson has no PEM private_key',
      'serviceAccountJson',
    );
  }
  return { projectId: parsed.project_id as string, clientEmail: parsed.client_email as string };
}

export const CREDENTIAL_TYPES: Record<CredentialType, CredentialTypeSpec> = {
  aws: {
    input: AwsCredentialInput,
    update: AwsCredentialUpdate,
    secretFields: ['accessKeyId', 'secretAccessKey'],
    refine: ({ fields, newSecrets }) => ({
      // The last four characters identify a key in the AWS console without revealing it.
      fields: newSecrets.accessKeyId
        ? { ...fields, accessKeyIdHint: newSecrets.accessKeyId.slice(-4) }
        : fields,
    }),
  },
  gcp: {
    input: GcpCredentialInput,
    update: GcpCredentialUpdate,
    secretFields: ['serviceAccountJson'],
    refine: ({ fields, newSecrets }) => {
      if (!newSecrets.serviceAccountJson) return { fields };
      const account = parseServiceAccount(newSecrets.serviceAccountJson);
      return {
        fields: {
          ...fields,
          project: fields.project ?? account.projectId,
          clientEmail: account.clientEmail,
        },
      };
    },
  },
  openstack: {
    input: OpenstackCredentialInput,
    update: OpenstackCredentialUpdate,
    secretFields: ['password'],
    targetAddress: {
      field: 'authUrl',
      code: 'AUTH_URL_NOT_ALLOWED',
      // The WHATWG parser normalizes shorthand IPv4 (http://0x7f.1/ is 127.0.0.1).
      host: (authUrl) => new URL(authUrl).hostname,
    },
    refine: ({ fields }) => ({ fields: { domain: 'Default', ...fields } }),
  },
  'ssh-host': {
    input: SshHostCredentialInput,
    update: SshHostCredentialUpdate,
    secretFields: ['privateKey'],
    targetAddress: { field: 'host', code: 'HOST_NOT_ALLOWED', host: (host) => host },
    refine: ({ fields, newSecrets, hasStoredSecret }) => {
      const merged: PublicFields = { port: 22, ...fields };
      if (newSecrets.privateKey !== undefined) {
        const parsed = utils.parseKey(newSecrets.privateKey);
        if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
          throw invalid(
            'INVALID_PRIVATE_KEY',
            'privateKey must be an unencrypted OpenSSH or PEM private key',
            'privateKey',
          );
        }
      }
      if (merged.auth === 'generated-key') {
        if (newSecrets.privateKey !== undefined) {
          throw invalid(
            'UNEXPECTED_PRIVATE_KEY',
            'privateKey is only used with auth "uploaded-key"',
            'privateKey',
          );
        }
        return { fields: merged, dropSecrets: ['privateKey'] };
      }
      if (newSecrets.privateKey === undefined && !hasStoredSecret('privateKey')) {
        throw invalid(
          'PRIVATE_KEY_REQUIRED',
          'privateKey is required with auth "uploaded-key"',
          'privateKey',
        );
      }
      return { fields: merged };
    },
  },
  s3: {
    input: S3CredentialInput,
    update: S3CredentialUpdate,
    secretFields: ['accessKeyId', 'secretAccessKey'],
    targetAddress: {
      field: 'endpoint',
      code: 'ENDPOINT_NOT_ALLOWED',
      // Without path-style addressing the SDK connects to `<bucket>.<endpoint host>`: a bucket
      // name such as `x-127-0-0-1` under a wildcard-DNS domain would reach another address.
      host: (endpoint, fields) => {
        const host = new URL(endpoint).hostname;
        return fields.pathStyle === false ? `${String(fields.bucket)}.${host}` : host;
      },
    },
    refine: ({ fields, newSecrets }) => ({
      fields: {
        pathStyle: true,
        ...fields,
        ...(newSecrets.accessKeyId ? { accessKeyIdHint: newSecrets.accessKeyId.slice(-4) } : {}),
      },
    }),
  },
};

/** The types a user can store, for messages and the OpenAPI enum. */
export const CREDENTIAL_TYPE_NAMES = Object.keys(CREDENTIAL_TYPES) as CredentialType[];

export function isCredentialType(value: unknown): value is CredentialType {
  return typeof value === 'string' && Object.hasOwn(CREDENTIAL_TYPES, value);
}
