import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, Not } from 'typeorm';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { ApiError } from '../common/api-error';
import { PasswordHasher } from '../crypto/password-hasher';
import { Platform } from '../platforms/platform.entity';
import { Space } from '../spaces/space.entity';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { AuthContext } from './auth.types';
import type { ChangePasswordDto, LoginDto, RegisterDto } from './dto/auth.dto';
import { assertStrongPassword } from './password-policy';
import type { RateLimit } from './rate-limiter';
import { RateLimiter } from './rate-limiter';
import type { RequestOrigin } from './request-origin';
import { SessionsService } from './sessions.service';
import { Tokens } from './tokens';
import { isUniqueViolation } from '../database/unique-violation';

export const AUTH_RATE_LIMITS = {
  registerPerIp: { limit: 10, windowSeconds: 3600 },
  loginPerIp: { limit: 30, windowSeconds: 300 },
  failedLoginsPerAccount: { limit: 10, windowSeconds: 900 },
} satisfies Record<string, RateLimit>;

const invalidCredentials = () =>
  new ApiError(HttpStatus.UNAUTHORIZED, 'INVALID_CREDENTIALS', 'Email or password is wrong');
const wrongPassword = () =>
  new ApiError(HttpStatus.FORBIDDEN, 'WRONG_PASSWORD', 'The current password is wrong');

@Injectable()
export class AuthService {
  /** Verified against when the email is unknown, so timing does not reveal which emails exist. */
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly tokens: Tokens,
    private readonly limiter: RateLimiter,
    private readonly audit: AuditLog,
    private readonly hasher: PasswordHasher,
    private readonly dataSource: DataSource,
  ) {
    this.decoyHash = hasher.hash('decoy password that never matches');
  }

  async register(input: RegisterDto, origin: RequestOrigin): Promise<User> {
    await this.limiter.consume(`register:ip:${origin.ip}`, AUTH_RATE_LIMITS.registerPerIp);
    assertStrongPassword(input.password);
    if (await this.users.findByEmail(input.email)) throw emailTaken();
    try {
      const { user } = await this.users.create(input);
      await this.audit.record(user.id, AuditEventType.Register, origin);
      return user;
    } catch (error) {
      // Two registrations racing for one email: the unique index decides.
      if (isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
  }

  async login(input: LoginDto, origin: RequestOrigin) {
    await this.limiter.consume(`login:ip:${origin.ip}`, AUTH_RATE_LIMITS.loginPerIp);
    const email = this.users.normalizeEmail(input.email);
    const accountKey = `login-failures:${email}`;
    await this.limiter.check(accountKey, AUTH_RATE_LIMITS.failedLoginsPerAccount);
    const user = await this.users.findByEmail(email);
    const dataKey = user ? await this.users.unlock(user, input.password) : undefined;
    if (!user || !dataKey) {
      if (!user) await this.hasher.verify(input.password, await this.decoyHash);
      await this.limiter.increment(
        accountKey,
        AUTH_RATE_LIMITS.failedLoginsPerAccount.windowSeconds,
      );
      if (user) await this.audit.record(user.id, AuditEventType.LoginFailed, origin);
      throw invalidCredentials();
    }
    await this.limiter.reset(accountKey);
    const { session, refreshToken } = await this.sessions.open(user.id, dataKey, origin);
    await this.audit.record(user.id, AuditEventType.Login, origin, { sessionId: session.id });
    const accessToken = await this.tokens.issueAccessToken({
      userId: user.id,
      sessionId: session.id,
    });
    return { accessToken, refreshToken, user };
  }

  async refresh(refreshToken: string, origin: RequestOrigin) {
    const { session, refreshToken: next } = await this.sessions.rotate(refreshToken, origin);
    const user = await this.users.findById(session.userId);
    if (!user)
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'INVALID_REFRESH_TOKEN',
        'Account no longer exists',
      );
    const accessToken = await this.tokens.issueAccessToken({
      userId: user.id,
      sessionId: session.id,
    });
    return { accessToken, refreshToken: next, user };
  }

  async logout(refreshToken: string, origin: RequestOrigin): Promise<void> {
    const session = await this.sessions.close(refreshToken);
    if (session) {
      await this.audit.record(session.userId, AuditEventType.Logout, origin, {
        sessionId: session.id,
      });
    }
  }

  async currentUser(auth: AuthContext): Promise<User> {
    const user = await this.users.findById(auth.userId);
    if (!user)
      throw new ApiError(HttpStatus.UNAUTHORIZED, 'SESSION_EXPIRED', 'Account no longer exists');
    return user;
  }

  /** Re-wraps the data key under the new password and signs out every other session. */
  async changePassword(auth: AuthContext, input: ChangePasswordDto, origin: RequestOrigin) {
    const user = await this.currentUser(auth);
    const dataKey = await this.users.unlock(user, input.currentPassword);
    if (!dataKey) throw wrongPassword();
    assertStrongPassword(input.newPassword, 'newPassword');
    await this.users.changePassword(user, dataKey, input.newPassword);
    await this.sessions.revokeOthers(user.id, auth.sessionId);
    await this.audit.record(user.id, AuditEventType.PasswordChanged, origin);
  }

  async deleteAccount(auth: AuthContext, password: string): Promise<void> {
    const user = await this.currentUser(auth);
    if (!(await this.users.unlock(user, password))) throw wrongPassword();
    // Deleting the records of live platforms or spaces would leak the machines they describe.
    const [platforms, spaces] = await Promise.all([
      this.dataSource
        .getRepository(Platform)
        .countBy({ userId: user.id, status: Not('destroyed') }),
      this.dataSource.getRepository(Space).countBy({ userId: user.id, status: Not('deleted') }),
    ]);
    if (platforms + spaces > 0) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'ACCOUNT_HAS_RESOURCES',
        `Destroy your ${platforms} platform(s) and delete your ${spaces} space(s) first`,
        { platforms, spaces },
      );
    }
    await this.users.delete(user.id);
  }

  async revealSshPrivateKey(auth: AuthContext, password: string, origin: RequestOrigin) {
    const user = await this.currentUser(auth);
    const dataKey = await this.users.unlock(user, password);
    if (!dataKey) throw wrongPassword();
    await this.audit.record(user.id, AuditEventType.SshKeyRevealed, origin);
    return this.users.sshPrivateKey(user, dataKey);
  }

  async revokeSession(auth: AuthContext, sessionId: string, origin: RequestOrigin) {
    if (!(await this.sessions.revoke(auth.userId, sessionId))) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'SESSION_NOT_FOUND', 'No such session');
    }
    await this.audit.record(auth.userId, AuditEventType.SessionRevoked, origin, { sessionId });
  }
}

function emailTaken(): ApiError {
  return new ApiError(
    HttpStatus.CONFLICT,
    'EMAIL_TAKEN',
    'An account with this email already exists',
  );
}
