import { HttpStatus, Injectable } from '@nestjs/common';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { HostChecks, type HostCheckReport } from '../provision/host-checks';
import { UsersService } from '../users/users.service';
import { CredentialsService } from './credentials.service';

/**
 * "Test connection" for an SSH-host credential: logs in with its key (the user's generated key or
 * the uploaded one) and reports what a launch needs of the host. Nothing is stored: the host key
 * is pinned per platform at its launch (trust on first use), so here it is only shown.
 */
@Injectable()
export class CredentialHostCheck {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly hostChecks: HostChecks,
  ) {}

  async check(auth: AuthContext, id: string): Promise<HostCheckReport> {
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const credential = await this.credentials.resolve(auth.userId, id, dataKey);
    if (credential.type !== 'ssh-host') {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'NOT_AN_SSH_HOST',
        'Only an SSH-host credential can be tested this way',
      );
    }
    const user = await this.users.findById(auth.userId);
    if (!user) throw new Error(`User ${auth.userId} is gone`);
    return this.hostChecks.check({
      host: String(credential.fields.host),
      port: Number(credential.fields.port ?? 22),
      username: String(credential.fields.username),
      privateKey:
        credential.fields.auth === 'uploaded-key'
          ? credential.secrets.privateKey!
          : this.users.sshPrivateKey(user, dataKey),
      hostKeyFingerprint: null,
    });
  }
}
