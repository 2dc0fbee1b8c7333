import { HttpStatus, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import type { CredentialType } from './credential.entity';
import { CredentialsService } from './credentials.service';

/** Tries a stored credential against what it points at and reports what it found. */
export type CredentialConnectionTest = (auth: AuthContext, id: string) => Promise<object>;

/**
 * `POST /credentials/:id/test` dispatches here by the credential's type; each type that can be
 * tried registers its test from its own file (s3: s3-connection-test.ts).
 */
@Injectable()
export class CredentialConnectionTests {
  private readonly byType = new Map<CredentialType, CredentialConnectionTest>();

  constructor(private readonly credentials: CredentialsService) {}

  register(type: CredentialType, test: CredentialConnectionTest): void {
    if (this.byType.has(type)) throw new Error(`Connection test for ${type} registered twice`);
    this.byType.set(type, test);
  }

  async test(auth: AuthContext, id: string): Promise<object> {
    const { type, name } = await this.credentials.get(auth.userId, id);
    const test = this.byType.get(type as CredentialType);
    if (!test) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'CONNECTION_TEST_UNSUPPORTED',
        `Credential "${name}" is of type ${type}, which has no connection test`,
      );
    }
    return test(auth, id);
  }
}
