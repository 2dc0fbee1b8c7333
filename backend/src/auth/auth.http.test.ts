import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Database from 'better-sqlite3';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  ApiClient,
  refreshCookieOf,
  type ApiResponse,
  type ErrorBody,
} from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { serviceUrl } from '../../test/test-env';
import { DataSource } from 'typeorm';
import { FAKE_AWS_ACCESS_KEY_ID } from '../../test/fixtures/fake-credentials';
import { CredentialsService } from '../credentials/credentials.service';
import { ServerKey } from '../crypto/server-key';
import { User } from '../users/user.entity';
import { UserKeys } from '../users/user-keys';
import { UsersService } from '../users/users.service';
import { SessionsService } from './sessions.service';
import { PASSWORD_BACKOFF } from './auth.service';

describe('accounts and sessions (running API, SQLite, Redis)', () => {
  let app: INestApplication;
  let baseUrl: string;
  let dataDir: string;
  const client = () => new ApiClient(baseUrl);
  const countRows = (table: string) => {
    const db = new Database(join(dataDir, 'fieldstation.sqlite'), { readonly: true });
    try {
      return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  /** Lifts the backoff of one account and address, as if its wait had passed. */
  const endPasswordBlock = async (account: string, address: string) => {
    const redis = new Redis(serviceUrl('FS_TEST_REDIS_URL'));
    try {
      const key = `fieldstation:${app.get(ServerKey).id}:rate:password:${account}:${address}:blocked`;
      expect(await redis.del(key)).toBe(1);
    } finally {
      redis.disconnect();
    }
  };

  beforeAll(async () => {
    ({ app, baseUrl, dataDir } = await startTestApp());
  });
  afterAll(async () => app.close());

  it('registers, signs in and shows the user without any secret', async () => {
    const api = client();
    const { email } = await api.signUp('ada');
    const me = await api.get<{ user: Record<string, unknown> }>('/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email, username: 'ada' });
    expect(me.body.user.sshPublicKey).toMatch(/^ssh-ed25519 AAAA/);
    expect(Object.keys(me.body.user).sort()).toEqual([
      'createdAt',
      'email',
      'id',
      'sshPublicKey',
      'username',
    ]);
  });

  it('rejects bad input with clear 4xx codes and stores nothing', async () => {
    const api = client();
    const { email } = await api.signUp('bad-input');
    const users = countRows('users');
    const register = (body: unknown) => api.post<ErrorBody>('/auth/register', body);

    const short = await register({ email: 'x@example.org', username: 'x', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({
      code: 'WEAK_PASSWORD',
      details: { rule: 'min_length' },
    });

    const common = await register({
      email: 'x@example.org',
      username: 'x',
      password: 'password123',
    });
    expect(common.body.error).toMatchObject({
      code: 'WEAK_PASSWORD',
      details: { rule: 'common_password' },
    });

    const duplicate = await register({
      email: email.toUpperCase(),
      username: 'x',
      password: 'a long enough passphrase',
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('EMAIL_TAKEN');

    const unknown = await register({
      email: 'y@example.org',
      username: 'y',
      password: 'a long enough passphrase',
      admin: true,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('VALIDATION_FAILED');
    expect(unknown.body.error.message).toBe('admin: property admin should not exist');

    const invalidEmail = await register({
      email: 'not-an-email',
      username: 'y',
      password: 'a long enough passphrase',
    });
    expect(invalidEmail.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'email: email must be a valid email address',
    });

    const malformed = await api.post<ErrorBody>('/auth/register', '{"email":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');

    const oversized = await register({
      email: 'z@example.org',
      username: 'z',
      password: 'p'.repeat(2_000_000),
    });
    expect(oversized.status).toBe(413);

    const wrongPassword = await client().login(email, 'not the password at all');
    expect(wrongPassword.status).toBe(401);
    expect((wrongPassword.body as ErrorBody).error.code).toBe('INVALID_CREDENTIALS');

    expect(countRows('users')).toBe(users);
  });

  it('rotates refresh tokens and revokes the session when an old one is reused', async () => {
    const api = client();
    await api.signUp('rotate');
    const first = api.refreshToken!;
    const refreshed = await api.post<{ accessToken: string }>('/auth/refresh', {
      refreshToken: first,
    });
    expect(refreshed.status).toBe(200);
    const second = refreshCookieOf(refreshed.headers)!;
    expect(second).toMatch(/^[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(second).not.toBe(first);
    api.accessToken = refreshed.body.accessToken;
    expect((await api.get('/auth/me')).status).toBe(200);

    const reuse = await api.post<ErrorBody>('/auth/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('REFRESH_TOKEN_REUSED');
    // The whole session is gone: the newest refresh token and the access token stop working.
    expect((await api.post('/auth/refresh', { refreshToken: second })).status).toBe(401);
    const me = await api.get<ErrorBody>('/auth/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('SESSION_EXPIRED');
  });

  it('refuses a forged refresh token for a live session without ending that session', async () => {
    const api = new ApiClient(baseUrl, '127.0.3.1');
    await api.signUp('forged');
    const [sessionId] = api.refreshToken!.split('.');
    for (const forged of [`${sessionId}.anything`, `${sessionId}.${'A'.repeat(43)}`]) {
      const inBody = await api.post<ErrorBody>('/auth/refresh', { refreshToken: forged });
      expect(inBody.status).toBe(401);
      expect(inBody.body.error.code).toBe('INVALID_REFRESH_TOKEN');
      const inCookie = await api.request<ErrorBody>('POST', '/auth/refresh', undefined, {
        cookie: `fieldstation_refresh=${forged}`,
      });
      expect(inCookie.status).toBe(401);
      expect(inCookie.body.error.code).toBe('INVALID_REFRESH_TOKEN');
    }
    expect((await api.get('/auth/me')).status).toBe(200);
    const refreshed = await api.post('/auth/refresh', { refreshToken: api.refreshToken });
    expect(refreshed.status).toBe(200);
    const audit = await api.get<{ type: string }[]>('/audit-events');
    expect(audit.body.map((event) => event.type)).not.toContain('refresh_reuse');
  });

  it('keeps the refresh token in an httpOnly SameSite=Strict cookie on the auth routes only', async () => {
    const api = new ApiClient(baseUrl, '127.0.3.2');
    const { email, password } = await api.signUp('cookie');
    const login = await client().post<Record<string, unknown>>('/auth/login', { email, password });
    expect(login.status).toBe(200);
    // The body has no refresh token: page scripts must never see it.
    expect(Object.keys(login.body).sort()).toEqual(['accessToken', 'user']);
    const [setCookie, ...more] = login.headers.getSetCookie();
    expect(more).toEqual([]);
    const attributes = setCookie!.split('; ');
    expect(attributes[0]).toMatch(/^fieldstation_refresh=[0-9a-f-]{36}\.[\w-]{43}$/);
    expect(attributes.slice(1).sort()).toEqual([
      expect.stringMatching(/^Expires=/),
      'HttpOnly',
      'Max-Age=2592000',
      'Path=/api/v1/auth',
      'SameSite=Strict',
    ]);
    const cookie = attributes[0]!;

    // The browser sends the cookie back by itself; no body is needed.
    const refreshed = await api.request<Record<string, unknown>>(
      'POST',
      '/auth/refresh',
      undefined,
      {
        cookie,
      },
    );
    expect(refreshed.status).toBe(200);
    expect(Object.keys(refreshed.body).sort()).toEqual(['accessToken', 'user']);
    const rotated = refreshCookieOf(refreshed.headers)!;
    expect(`fieldstation_refresh=${rotated}`).not.toBe(cookie);

    const loggedOut = await api.request(
      'POST',
      '/auth/logout',
      {},
      {
        cookie: `fieldstation_refresh=${rotated}`,
      },
    );
    expect(loggedOut.status).toBe(204);
    expect(loggedOut.headers.getSetCookie()).toEqual([
      'fieldstation_refresh=; Path=/api/v1/auth; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict',
    ]);
    const after = await api.request<ErrorBody>(
      'POST',
      '/auth/refresh',
      {},
      {
        cookie: `fieldstation_refresh=${rotated}`,
      },
    );
    expect(after.status).toBe(401);
    expect((await api.post<ErrorBody>('/auth/refresh', {})).body.error.code).toBe(
      'INVALID_REFRESH_TOKEN',
    );
  });

  it('logs out, lists and revokes sessions', async () => {
    const laptop = client();
    const { email, password } = await laptop.signUp('sessions');
    const phone = client();
    await phone.login(email, password);

    const listed = await laptop.get<{ id: string; current: boolean }[]>('/auth/sessions');
    expect(listed.body).toHaveLength(2);
    const phoneSession = listed.body.find((session) => !session.current)!;
    expect((await laptop.delete(`/auth/sessions/${phoneSession.id}`)).status).toBe(204);
    expect((await phone.get('/auth/me')).status).toBe(401);

    expect((await laptop.post('/auth/logout', { refreshToken: laptop.refreshToken })).status).toBe(
      204,
    );
    expect((await laptop.get('/auth/me')).status).toBe(401);
    expect((await laptop.get('/auth/me')).status).toBe(401);
    expect((await client().get<ErrorBody>('/credentials')).body.error.code).toBe('UNAUTHENTICATED');
  });

  it('reveals the SSH private key only with the password, and audits it', async () => {
    const api = client();
    const { password } = await api.signUp('keys');
    const publicKey = await api.get<{ publicKey: string; fingerprint: string }>('/auth/ssh-key');
    expect(publicKey.body.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);

    const denied = await api.post<ErrorBody>('/auth/ssh-key/reveal', {
      password: 'wrong password here',
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('WRONG_PASSWORD');

    const revealed = await api.post<{ privateKey: string }>('/auth/ssh-key/reveal', { password });
    expect(revealed.status).toBe(200);
    const parsed = utils.parseKey(revealed.body.privateKey);
    if (parsed instanceof Error || Array.isArray(parsed))
      throw new Error('private key does not parse');
    expect(parsed.getPublicSSH().toString('base64')).toBe(publicKey.body.publicKey.split(' ')[1]);

    const audit = await api.get<{ type: string }[]>('/audit-events');
    expect(audit.body.map((event) => event.type)).toEqual([
      'ssh_key_revealed',
      'login',
      'register',
    ]);
  });

  it('upgrades a legacy two-derivation account at its next login; every secret stays readable', async () => {
    const api = client();
    const { email, password, userId } = await api.signUp('legacy');
    const secrets = {
      secretAccessKey: 'aws-secret-LEGACY-5b1e',
      password: 'os-secret-LEGACY-77c2',
    };
    const aws = await api.post<{ id: string }>('/credentials', {
      type: 'aws',
      name: 'aws',
      region: 'eu-west-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: secrets.secretAccessKey,
    });
    const openstack = await api.post<{ id: string }>('/credentials', {
      type: 'openstack',
      name: 'os',
      authUrl: 'https://keystone.example.org:5000/v3',
      username: 'ada',
      password: secrets.password,
      projectName: 'iot',
    });
    expect([aws.status, openstack.status]).toEqual([201, 201]);
    const privateKey = (
      await api.post<{ privateKey: string }>('/auth/ssh-key/reveal', { password })
    ).body.privateKey;

    // The account as the legacy scheme wrote it: the same data key, wrapped by a second derivation.
    const users = app.get(DataSource).getRepository(User);
    const current = await users.findOneByOrFail({ id: userId });
    const dataKey = await app.get(UsersService).unlock(current, password);
    if (!dataKey) throw new Error('the new account does not unlock');
    const legacy = await app
      .get(UserKeys, { strict: false })
      .sealLegacy(current, dataKey, password, current.keyVersion + 1);
    await users.update({ id: userId }, legacy);
    expect(legacy.passwordHash).toMatch(/^scrypt\$/);

    expect((await client().login(email, 'wrong password for legacy')).status).toBe(401);
    expect(await users.findOneByOrFail({ id: userId })).toMatchObject(legacy);

    expect((await client().login(email, password)).status).toBe(200);
    const upgraded = await users.findOneByOrFail({ id: userId });
    expect(upgraded.passwordHash).toMatch(/^scrypt-hkdf\$/);
    expect(upgraded).toMatchObject({ keySalt: '', keyVersion: legacy.keyVersion + 1 });
    expect(upgraded.wrappedDataKey).not.toBe(legacy.wrappedDataKey);

    const again = client();
    expect((await again.login(email, password)).status).toBe(200);
    // Upgraded once: the next login reads the new record as it is.
    expect(await users.findOneByOrFail({ id: userId })).toMatchObject({
      passwordHash: upgraded.passwordHash,
      wrappedDataKey: upgraded.wrappedDataKey,
    });
    const revealed = await again.post<{ privateKey: string }>('/auth/ssh-key/reveal', { password });
    expect(revealed.body.privateKey).toBe(privateKey);
    // The key the login unlocked (the session's copy) opens every stored credential.
    const sessionKey = await app.get(SessionsService, { strict: false }).latestDataKey(userId);
    const credentials = app.get(CredentialsService, { strict: false });
    expect((await credentials.resolve(userId, aws.body.id, sessionKey!)).secrets).toEqual({
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: secrets.secretAccessKey,
    });
    expect((await credentials.resolve(userId, openstack.body.id, sessionKey!)).secrets).toEqual({
      password: secrets.password,
    });
  }, 120_000); // Some 10 scrypt derivations: a busy test machine needs the time.

  it('slows password guesses per account and address without locking the owner out', async () => {
    // Each client its own loopback address: registrations are limited per address too.
    const owner = new ApiClient(baseUrl, '127.0.1.1');
    const { email, password, userId } = await owner.signUp('guessed');
    const attacker = new ApiClient(baseUrl, '127.0.0.2');
    const guesses: ApiResponse[] = [];
    for (let attempt = 0; attempt < 3 * PASSWORD_BACKOFF.freeFailures; attempt++) {
      guesses.push(await attacker.login(email, `wrong guess ${attempt}`));
    }

    // The owner, elsewhere, signs in as usual (a per-account lockout refused this).
    for (const ownerAddress of ['127.0.1.1', '127.0.1.2']) {
      expect((await new ApiClient(baseUrl, ownerAddress).login(email, password)).status).toBe(200);
    }

    // The guesser gets a few tries, then waits.
    expect(guesses.map((guess) => guess.status)).toEqual([
      ...Array<number>(PASSWORD_BACKOFF.freeFailures).fill(401),
      ...Array<number>(2 * PASSWORD_BACKOFF.freeFailures).fill(429),
    ]);
    const slowed = guesses.at(-1)!;
    const { error } = slowed.body as ErrorBody;
    expect(error.code).toBe('RATE_LIMITED');
    const retryAfter = Number(slowed.headers.get('retry-after'));
    expect(error.details).toEqual({ retryAfterSeconds: retryAfter });
    // What is left of the first wait (the guesses themselves take a while).
    expect(retryAfter).toBeGreaterThan(PASSWORD_BACKOFF.baseSeconds / 2);
    expect(retryAfter).toBeLessThanOrEqual(PASSWORD_BACKOFF.baseSeconds);
    // Even the right password waits on that address: guessing it is what is being slowed.
    expect((await attacker.login(email, password)).status).toBe(429);

    // Each further failure doubles the wait. Ending the block in Redis stands in for waiting it out.
    await endPasswordBlock(`user:${userId}`, '127.0.0.2');
    expect((await attacker.login(email, 'wrong guess after the wait')).status).toBe(401);
    const slower = await attacker.login(email, 'and another');
    expect(slower.status).toBe(429);
    expect(Number(slower.headers.get('retry-after'))).toBeGreaterThan(PASSWORD_BACKOFF.baseSeconds);
    expect(Number(slower.headers.get('retry-after'))).toBeLessThanOrEqual(
      2 * PASSWORD_BACKOFF.baseSeconds,
    );

    const failures = (await owner.get<{ type: string }[]>('/audit-events')).body.filter(
      (event) => event.type === 'login_failed',
    );
    expect(failures).toHaveLength(PASSWORD_BACKOFF.freeFailures + 1);
  }, 180_000); // Some 10 deliberately slow scrypt checks: a busy test machine needs the time.

  it('slows guesses at emails that have no account the same way', async () => {
    const attacker = new ApiClient(baseUrl, '127.0.0.4');
    const email = 'nobody-here@example.org';
    for (let attempt = 0; attempt < PASSWORD_BACKOFF.freeFailures; attempt++) {
      expect((await attacker.login(email, `guess ${attempt}`)).status).toBe(401);
    }
    expect((await attacker.login(email, 'guess')).status).toBe(429);
  });

  it.each([
    ['reveal the SSH key', 'POST', '/auth/ssh-key/reveal', '127.0.2.1'],
    ['change the password', 'POST', '/auth/password', '127.0.2.2'],
    ['delete the account', 'DELETE', '/auth/account', '127.0.2.3'],
  ])('slows password guesses to %s', async (_action, method, path, address) => {
    const body = (password: string) =>
      path === '/auth/password'
        ? { currentPassword: password, newPassword: 'a brand new passphrase' }
        : { password };
    const api = new ApiClient(baseUrl, address);
    const { password } = await api.signUp('reauth');
    for (let attempt = 0; attempt < PASSWORD_BACKOFF.freeFailures; attempt++) {
      const wrong = await api.request<ErrorBody>(method, path, body(`wrong guess ${attempt}`));
      expect(wrong.body.error.code).toBe('WRONG_PASSWORD');
      expect(wrong.status).toBe(403);
    }
    const slowed = await api.request<ErrorBody>(method, path, body(password));
    expect(slowed.status).toBe(429);
    expect(slowed.body.error.code).toBe('RATE_LIMITED');
    expect(Number(slowed.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('limits registrations per IP address', async () => {
    const { app: limited, baseUrl: limitedUrl } = await startTestApp();
    try {
      const api = new ApiClient(limitedUrl);
      const attempt = (n: number) =>
        api.post<ErrorBody>('/auth/register', {
          email: `r${n}@example.org`,
          username: 'r',
          password: 'short',
        });
      for (let n = 0; n < 10; n++) expect((await attempt(n)).body.error.code).toBe('WEAK_PASSWORD');
      const blocked = await attempt(10);
      expect(blocked.status).toBe(429);
      expect(blocked.body.error).toMatchObject({
        code: 'RATE_LIMITED',
        details: { retryAfterSeconds: expect.any(Number) },
      });
    } finally {
      await limited.close();
    }
  });

  it('deletes the account only with the password', async () => {
    const api = client();
    const { email, password } = await api.signUp('leaving');
    expect(
      (await api.delete<ErrorBody>('/auth/account', { password: 'wrong password!' })).status,
    ).toBe(403);
    expect((await api.delete('/auth/account', { password })).status).toBe(204);
    expect((await client().login(email, password)).status).toBe(401);
    expect((await api.get('/auth/me')).status).toBe(401);
  });
});
