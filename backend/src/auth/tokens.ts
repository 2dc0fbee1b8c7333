import { createHash, randomBytes } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { jwtVerify, SignJWT } from 'jose';
import { ApiError } from '../common/api-error';
import { ServerKey } from '../crypto/server-key';
import type { AuthContext } from '../common/auth-context';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const ISSUER = 'fieldstation';

/**
 * Access tokens are short JWTs naming the user and session; refresh tokens are opaque
 * `<sessionId>.<random>` strings of which the database keeps only a SHA-256.
 */
@Injectable()
export class Tokens {
  constructor(private readonly serverKey: ServerKey) {}

  issueAccessToken(auth: AuthContext): Promise<string> {
    return new SignJWT({ sid: auth.sessionId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(auth.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${ACCESS_TOKEN_TTL_SECONDS}s`)
      .sign(this.serverKey.tokenSigningKey);
  }

  async verifyAccessToken(token: string): Promise<AuthContext> {
    try {
      const { payload } = await jwtVerify(token, this.serverKey.tokenSigningKey, {
        issuer: ISSUER,
        algorithms: ['HS256'],
      });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new Error();
      return { userId: payload.sub, sessionId: payload.sid };
    } catch {
      throw new ApiError(
        HttpStatus.UNAUTHORIZED,
        'INVALID_TOKEN',
        'Access token is invalid or expired',
      );
    }
  }

  newRefreshToken(sessionId: string): { token: string; hash: string } {
    const token = `${sessionId}.${randomBytes(32).toString('base64url')}`;
    return { token, hash: this.hashRefreshToken(token) };
  }

  hashRefreshToken(token: string): string {
    return createHash('sha256').update(token).digest('hex');
  }

  /** The session id a refresh token claims (not yet verified). */
  sessionIdOf(token: string): string | undefined {
    const [sessionId, secret] = token.split('.');
    return sessionId && secret ? sessionId : undefined;
  }
}
