import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, MoreThan, Not, Repository } from 'typeorm';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { ApiError } from '../common/api-error';
import { DataKey } from '../crypto/data-key';
import { ServerKey } from '../crypto/server-key';
import type { RequestOrigin } from '../common/request-origin';
import { Session } from './session.entity';
import { REFRESH_TOKEN_TTL_MS, Tokens } from './tokens';

const invalidRefresh = () =>
  new ApiError(
    HttpStatus.UNAUTHORIZED,
    'INVALID_REFRESH_TOKEN',
    'Refresh token is invalid or expired',
  );

/**
 * Sessions are rows: one per sign-in, holding the user's data key wrapped by the server key so
 * background work can use it after a restart. Deleting the row is what signs a device out.
 */
@Injectable()
export class SessionsService {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    private readonly serverKey: ServerKey,
    private readonly tokens: Tokens,
    private readonly audit: AuditLog,
  ) {}

  async open(userId: string, dataKey: DataKey, origin: RequestOrigin) {
    const id = randomUUID();
    const refresh = this.tokens.newRefreshToken(id);
    const now = new Date();
    const session = this.sessions.create({
      id,
      userId,
      refreshTokenHash: refresh.hash,
      wrappedDataKey: this.serverKey.wrap(dataKey.bytes(), sessionContext(id)),
      ip: origin.ip,
      userAgent: origin.userAgent,
      lastUsedAt: now,
      expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
    });
    await this.sessions.insert(session);
    return { session, refreshToken: refresh.token };
  }

  /**
   * Exchanges a refresh token for a new one. Only the latest token of a session is valid. The
   * one it replaced, shown again, means a copy of it is in use, so the whole session is revoked;
   * any other token (e.g. a forged `<sessionId>.<anything>`) is only refused, so knowing a
   * session id is not enough to sign its owner out.
   */
  async rotate(refreshToken: string | undefined, origin: RequestOrigin) {
    const sessionId = refreshToken && this.tokens.sessionIdOf(refreshToken);
    const session = sessionId ? await this.findActive(sessionId) : null;
    if (!refreshToken || !session) throw invalidRefresh();
    const presented = this.tokens.hashRefreshToken(refreshToken);
    if (presented !== session.refreshTokenHash) {
      if (presented !== session.previousRefreshTokenHash) throw invalidRefresh();
      await this.sessions.delete({ id: session.id });
      await this.audit.record(session.userId, AuditEventType.RefreshReuse, origin, {
        sessionId: session.id,
      });
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'REFRESH_TOKEN_REUSED',
        'This refresh token was already used; the session has been revoked',
      );
    }
    const refresh = this.tokens.newRefreshToken(session.id);
    const now = new Date();
    const updated = await this.sessions.update(
      // The hash in the WHERE makes two concurrent refreshes with one token rotate only once.
      { id: session.id, refreshTokenHash: session.refreshTokenHash },
      {
        refreshTokenHash: refresh.hash,
        previousRefreshTokenHash: session.refreshTokenHash,
        lastUsedAt: now,
        expiresAt: new Date(now.getTime() + REFRESH_TOKEN_TTL_MS),
        ip: origin.ip,
        userAgent: origin.userAgent,
      },
    );
    if (updated.affected !== 1) throw invalidRefresh();
    return { session, refreshToken: refresh.token };
  }

  /** The session if it exists and has not expired (expired ones are deleted on sight). */
  async findActive(sessionId: string): Promise<Session | null> {
    const session = await this.sessions.findOneBy({ id: sessionId });
    if (session && session.expiresAt.getTime() <= Date.now()) {
      await this.sessions.delete({ id: session.id });
      return null;
    }
    return session;
  }

  /** The user's data key as this session holds it; for requests and for issuing grants. */
  async dataKey(sessionId: string): Promise<DataKey> {
    const session = await this.findActive(sessionId);
    if (!session) {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'SESSION_EXPIRED',
        'Session has ended; sign in again',
      );
    }
    return DataKey.fromBytes(
      this.serverKey.unwrap(session.wrappedDataKey, sessionContext(session.id)),
    );
  }

  /**
   * The data key from the user's most recently used live session, or null when signed out
   * everywhere: background checks may look deeper only while the user keeps a session.
   */
  async latestDataKey(userId: string): Promise<DataKey | null> {
    const [session] = await this.sessions.find({
      where: { userId, expiresAt: MoreThan(new Date()) },
      order: { lastUsedAt: 'DESC' },
      take: 1,
    });
    return session
      ? DataKey.fromBytes(this.serverKey.unwrap(session.wrappedDataKey, sessionContext(session.id)))
      : null;
  }

  list(userId: string): Promise<Session[]> {
    return this.sessions.find({ where: { userId }, order: { lastUsedAt: 'DESC' } });
  }

  /** Deletes one of the user's sessions; false when there is no such session of theirs. */
  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const result = await this.sessions.delete({ id: sessionId, userId });
    return result.affected === 1;
  }

  async revokeOthers(userId: string, keepSessionId: string): Promise<void> {
    await this.sessions.delete({ userId, id: Not(keepSessionId) });
  }

  /** Logout by refresh token; unknown tokens are ignored so logout is idempotent. */
  async close(refreshToken: string): Promise<Session | null> {
    const sessionId = this.tokens.sessionIdOf(refreshToken);
    const session = sessionId ? await this.sessions.findOneBy({ id: sessionId }) : null;
    if (!session || session.refreshTokenHash !== this.tokens.hashRefreshToken(refreshToken)) {
      return null;
    }
    await this.sessions.delete({ id: session.id });
    return session;
  }

  async deleteExpired(): Promise<void> {
    await this.sessions.delete({ expiresAt: LessThan(new Date()) });
  }
}

function sessionContext(sessionId: string): string {
  return `session:${sessionId}`;
}
