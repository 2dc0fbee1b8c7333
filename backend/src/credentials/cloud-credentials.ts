import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { CloudCredentials } from '../infra';
import type { ResolvedCredential } from './credentials.service';

/**
 * What a space or platform is launched with must be a credential of its target (an AWS
 * credential for an AWS platform): a 400 on `credentialId` otherwise.
 */
export function assertCredentialFor(
  credential: { name: string; type: string },
  target: string,
): void {
  if (credential.type === target) return;
  throw new ApiError(
    HttpStatus.BAD_REQUEST,
    'CREDENTIAL_TARGET_MISMATCH',
    `Credential "${credential.name}" is for ${credential.type}, not ${target}`,
    [{ field: 'credentialId', problems: ['must be a credential of the same cloud'] }],
  );
}

/** The provider credentials of an opened aws/gcp/openstack credential, for the infra runner. */
export function cloudCredentialsOf(credential: ResolvedCredential): CloudCredentials {
  const { fields, secrets } = credential;
  switch (credential.type) {
    case 'aws':
      return {
        type: 'aws',
        accessKeyId: secrets.accessKeyId!,
        secretAccessKey: secrets.secretAccessKey!,
      };
    case 'gcp':
      return { type: 'gcp', serviceAccountJson: secrets.serviceAccountJson! };
    case 'openstack':
      return {
        type: 'openstack',
        authUrl: String(fields.authUrl),
        username: String(fields.username),
        password: secrets.password!,
        projectName: String(fields.projectName),
        domain: String(fields.domain ?? 'Default'),
        ...(fields.region ? { region: String(fields.region) } : {}),
      };
    case 'ssh-host':
    case 's3':
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'NOT_A_CLOUD_CREDENTIAL',
        `Credential "${credential.name}" is an ${credential.type} credential`,
      );
  }
}
