import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Database from 'better-sqlite3';
import { utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';

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
    const refreshed = await api.post<{ accessToken: string; refreshToken: string }>(
      '/auth/refresh',
      {
        refreshToken: first,
      },
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(first);
    api.accessToken = refreshed.body.accessToken;
    expect((await api.get('/auth/me')).status).toBe(200);

    const reuse = await api.post<ErrorBody>('/auth/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('REFRESH_TOKEN_REUSED');
    // The whole session is gone: the newest refresh token and the access token stop working.
    expect(
      (await api.post('/auth/refresh', { refreshToken: refreshed.body.refreshToken })).status,
    ).toBe(401);
    const me = await api.get<ErrorBody>('/auth/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('SESSION_EXPIRED');
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

  it('locks an account after repeated failed logins, even for the right password', async () => {
    const api = client();
    const { email, password } = await api.signUp('locked');
    for (let attempt = 0; attempt < 10; attempt++) {
      expect((await client().login(email, `wrong guess ${attempt}`)).status).toBe(401);
    }
    const locked = await client().login(email, password);
    expect(locked.status).toBe(429);
    expect((locked.body as ErrorBody).error.code).toBe('RATE_LIMITED');
    const failures = (await api.get<{ type: string }[]>('/audit-events')).body.filter(
      (event) => event.type === 'login_failed',
    );
    expect(failures).toHaveLength(10);
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
