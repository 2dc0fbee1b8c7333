import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { ApiError } from '../common/api-error';
import type { DataKey } from '../crypto/data-key';
import { PasswordHasher } from '../crypto/password-hasher';
import type { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';
import type { AuthContext } from '../common/auth-context';
import { AccountResources } from './account-resources';
import type { ChangePasswordDto, LoginDto, RegisterDto } from './dto/auth.dto';
import { rateLimitAddress } from './client-address';
import { assertStrongPassword } from './password-policy';
import type { Backoff, RateLimit } from './rate-limiter';
import { RateLimiter } from './rate-limiter';
import type { RequestOrigin } from '../common/request-origin';
import { SessionsService } from './sessions.service';
import { Tokens } from './tokens';
import { isUniqueViolation } from '../common/unique-violation';

export const AUTH_RATE_LIMITS = {
  registerPerIp: { limit: 10, windowSeconds: 3600 },
  loginPerIp: { limit: 30, windowSeconds: 300 },
} satisfies Record<string, RateLimit>;

/**
 * Password guesses per account and client address (an IPv6 client's /64): 5 free, then 30 s,
 * 60 s, … up to an hour between tries. Keyed by address so that a stranger guessing cannot lock
 * the owner out (a per-account lockout would let anyone who knows an email do that).
 */
export const PASSWORD_BACKOFF: Backoff = {
  freeFailures: 5,
  baseSeconds: 30,
  maxSeconds: 3600,
  memorySeconds: 24 * 3600,
};

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
    private readonly resources: AccountResources,
  ) {
    this.decoyHash = hasher
      .derive('decoy password that never matches')
      .then(({ passwordHash }) => passwordHash);
  }

  async register(input: RegisterDto, origin: RequestOrigin): Promise<User> {
    const address = rateLimitAddress(origin.ip);
    await this.limiter.consume(`register:ip:${address}`, AUTH_RATE_LIMITS.registerPerIp);
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
    const address = rateLimitAddress(origin.ip);
    await this.limiter.consume(`login:ip:${address}`, AUTH_RATE_LIMITS.loginPerIp);
    const email = this.users.normalizeEmail(input.email);
    const user = await this.users.findByEmail(email);
    const dataKey = await this.verifyPassword(user ?? `email:${email}`, input.password, origin);
    if (!user || !dataKey) {
      if (user) await this.audit.record(user.id, AuditEventType.LoginFailed, origin);
      throw invalidCredentials();
    }
    const { session, refreshToken } = await this.sessions.open(user.id, dataKey, origin);
    await this.audit.record(user.id, AuditEventType.Login, origin, { sessionId: session.id });
    const accessToken = await this.tokens.issueAccessToken({
      userId: user.id,
      sessionId: session.id,
    });
    return { accessToken, refreshToken, user };
  }

  async refresh(refreshToken: string | undefined, origin: RequestOrigin) {
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
    const dataKey = await this.verifyPassword(user, input.currentPassword, origin);
    if (!dataKey) throw wrongPassword();
    assertStrongPassword(input.newPassword, 'newPassword');
    await this.users.changePassword(user, dataKey, input.newPassword);
    await this.sessions.revokeOthers(user.id, auth.sessionId);
    await this.audit.record(user.id, AuditEventType.PasswordChanged, origin);
  }

  async deleteAccount(auth: AuthContext, password: string, origin: RequestOrigin): Promise<void> {
    const user = await this.currentUser(auth);
    if (!(await this.verifyPassword(user, password, origin))) throw wrongPassword();
    // Deleting the records of live platforms or spaces would leak the machines they describe.
    const { platforms = 0, spaces = 0 } = await this.resources.liveCounts(user.id);
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
    const dataKey = await this.verifyPassword(user, password, origin);
    if (!dataKey) throw wrongPassword();
    await this.audit.record(user.id, AuditEventType.SshKeyRevealed, origin);
    return this.users.sshPrivateKey(user, dataKey);
  }

  /**
   * Every password check goes through here: it is throttled per account and client address
   * (429 while backing off) and answers the unlocked data key, or undefined for a wrong password.
   * `account` is the user, or the email tried when no such user exists (checked against a decoy
   * hash so timing does not reveal which emails exist).
   */
  private async verifyPassword(
    account: User | string,
    password: string,
    origin: RequestOrigin,
  ): Promise<DataKey | undefined> {
    const accountKey = typeof account === 'string' ? account : `user:${account.id}`;
    const key = `password:${accountKey}:${rateLimitAddress(origin.ip)}`;
    await this.limiter.attempt(key, PASSWORD_BACKOFF);
    if (typeof account === 'string') {
      await this.hasher.verify(password, await this.decoyHash);
      return undefined;
    }
    const dataKey = await this.users.unlock(account, password);
    if (dataKey) await this.limiter.succeeded(key);
    return dataKey;
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
