import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../test/test-env';
import { ApiError, type ApiErrorBody } from '../common/api-error';
import { loadConfig } from '../config/app-config';
import { ServerKey } from '../crypto/server-key';
import { ACCESS_TOKEN_TTL_SECONDS, accessTokenJwtOptions, Tokens } from './tokens';

const SECRET = 'a server secret of at least thirty-two characters';
const auth = { userId: 'user-1', sessionId: 'session-1' };

/** The token-signing subkey ServerKey derives from FIELDSTATION_SECRET, to forge tokens with. */
const signingKey = Buffer.from(
  hkdfSync(
    'sha256',
    createHash('sha256').update(SECRET).digest(),
    Buffer.alloc(0),
    'fieldstation/sign-tokens',
    32,
  ),
);

function tokens(): Tokens {
  const serverKey = new ServerKey(loadConfig({ FIELDSTATION_SECRET: SECRET }, tempDir()));
  return new Tokens(new JwtService(accessTokenJwtOptions(serverKey)));
}

/** A token with the given header and claims, HMAC-signed with `key` (alg as the header says). */
function forge(header: object, claims: object, key: Buffer = signingKey): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode(header)}.${encode(claims)}`;
  const alg = (header as { alg?: string }).alg;
  const hash = alg === 'HS512' ? 'sha512' : alg === 'HS384' ? 'sha384' : 'sha256';
  return `${body}.${createHmac(hash, key).update(body).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);
const validClaims = () => ({
  sid: auth.sessionId,
  sub: auth.userId,
  iss: 'fieldstation',
  aud: 'fieldstation-api',
  iat: now(),
  exp: now() + 60,
});

async function refused(token: string): Promise<string | undefined> {
  try {
    await tokens().verifyAccessToken(token);
    return undefined;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return (error.getResponse() as ApiErrorBody).error.code;
  }
}

describe('access tokens', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('verifies what it issued: HS256, issuer, audience, 15 minutes', async () => {
    const token = await tokens().issueAccessToken(auth);
    const [header, claims] = token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as object);
    expect(header).toMatchObject({ alg: 'HS256' });
    expect(claims).toMatchObject({
      sub: auth.userId,
      sid: auth.sessionId,
      iss: 'fieldstation',
      aud: 'fieldstation-api',
    });
    const { iat, exp } = claims as { iat: number; exp: number };
    expect(exp - iat).toBe(ACCESS_TOKEN_TTL_SECONDS);
    expect(await tokens().verifyAccessToken(token)).toEqual(auth);
    expect(await tokens().verifyAccessToken(forge({ alg: 'HS256' }, validClaims()))).toEqual(auth);
  });

  it('refuses an unsigned (alg none) token', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(validClaims())}.`;
    expect(await refused(unsigned)).toBe('INVALID_TOKEN');
  });

  it('refuses a token signed with another key', async () => {
    const otherKey = Buffer.alloc(32, 7);
    expect(await refused(forge({ alg: 'HS256' }, validClaims(), otherKey))).toBe('INVALID_TOKEN');
  });

  it('refuses another HMAC algorithm even under the right key', async () => {
    expect(await refused(forge({ alg: 'HS512' }, validClaims()))).toBe('INVALID_TOKEN');
    expect(await refused(forge({ alg: 'HS384' }, validClaims()))).toBe('INVALID_TOKEN');
  });

  it('refuses a token without the right issuer or audience', async () => {
    const { aud: _aud, ...noAudience } = validClaims();
    expect(await refused(forge({ alg: 'HS256' }, noAudience))).toBe('INVALID_TOKEN');
    expect(await refused(forge({ alg: 'HS256' }, { ...validClaims(), aud: 'grafana' }))).toBe(
      'INVALID_TOKEN',
    );
    expect(await refused(forge({ alg: 'HS256' }, { ...validClaims(), iss: 'someone' }))).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses an expired token', async () => {
    const token = await tokens().issueAccessToken(auth);
    vi.useFakeTimers({ now: Date.now() + (ACCESS_TOKEN_TTL_SECONDS + 1) * 1000 });
    expect(await refused(token)).toBe('INVALID_TOKEN');
  });

  it('refuses a token without a session or user', async () => {
    const { sid: _sid, ...noSession } = validClaims();
    expect(await refused(forge({ alg: 'HS256' }, noSession))).toBe('INVALID_TOKEN');
    const { sub: _sub, ...noUser } = validClaims();
    expect(await refused(forge({ alg: 'HS256' }, noUser))).toBe('INVALID_TOKEN');
  });
});
