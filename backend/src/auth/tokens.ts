import { createHash, randomBytes } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { JwtService, type JwtModuleOptions } from '@nestjs/jwt';
import type { AuthContext } from '../common/auth-context';
import { ApiError } from '../common/api-error';
import type { ServerKey } from '../crypto/server-key';

export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const ISSUER = 'fieldstation';
const AUDIENCE = 'fieldstation-api';

/**
 * How access tokens are signed and checked, for AuthModule's JwtModule: HS256 only on both sides
 * (a token naming `none` or another algorithm is refused), issuer and audience checked, under the
 * server key's token-signing subkey.
 */
export function accessTokenJwtOptions(serverKey: ServerKey): JwtModuleOptions {
  return {
    secret: serverKey.tokenSigningKey,
    signOptions: {
      algorithm: 'HS256',
      issuer: ISSUER,
      audience: AUDIENCE,
      expiresIn: ACCESS_TOKEN_TTL_SECONDS,
    },
    verifyOptions: { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE },
  };
}

/**
 * Access tokens are short JWTs naming the user and session; refresh tokens are opaque
 * `<sessionId>.<random>` strings of which the database keeps only a SHA-256. A valid access token
 * is not enough on its own: the AuthGuard also checks that its session is still live.
 */
@Injectable()
export class Tokens {
  constructor(private readonly jwt: JwtService) {}

  issueAccessToken(auth: AuthContext): Promise<string> {
    return this.jwt.signAsync({ sid: auth.sessionId }, { subject: auth.userId });
  }

  async verifyAccessToken(token: string): Promise<AuthContext> {
    try {
      const payload = await this.jwt.verifyAsync<{ sub?: unknown; sid?: unknown }>(token);
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
