import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { CloudCredentials } from '../infra';
import type { ResolvedCredential } from './credentials.service';

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
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'NOT_A_CLOUD_CREDENTIAL',
        `Credential "${credential.name}" is an ssh-host credential`,
      );
  }
}
