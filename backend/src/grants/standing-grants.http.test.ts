import type { INestApplication } from '@nestjs/common';
import { getRepositoryToken } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { FAKE_AWS_ACCESS_KEY_ID } from '../../test/fixtures/fake-credentials';
import { startTestApp } from '../../test/http-app';
import { Tokens } from '../auth/tokens';
import { CredentialsService } from '../credentials/credentials.service';
import { GrantUnavailableError } from './deployment-grants.service';
import { StandingGrant } from './standing-grant.entity';
import { StandingGrants } from './standing-grants.service';

type GrantBody = { id: string; purpose: string; createdAt: string; lastUsedAt: string | null };

describe('standing grants (running API, SQLite)', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp());
  });
  afterAll(async () => app?.close());

  it('open the data key after logout and a password change, until revoked; listed, owner only', async () => {
    const api = new ApiClient(baseUrl);
    const { userId, email, password } = await api.signUp('standing');
    const secret = 'standing-grant-MARKER-secret-42';
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'aws',
      name: 'aws-backup',
      region: 'eu-central-1',
      accessKeyId: FAKE_AWS_ACCESS_KEY_ID,
      secretAccessKey: secret,
    });
    expect(credential.status).toBe(201);
    const auth = await app.get(Tokens).verifyAccessToken(api.accessToken!);
    const grants = app.get(StandingGrants);
    const id = await grants.issue(auth, 'backup-schedule:sched-1');

    const listed = await api.get<GrantBody[]>('/account/grants');
    expect(listed.body).toEqual([
      expect.objectContaining({ id, purpose: 'backup-schedule:sched-1', lastUsedAt: null }),
    ]);
    expect(JSON.stringify(listed.body)).not.toMatch(/wrapped/i);

    // The session ends and the password changes: the schedule's work still opens the key.
    const changed = await api.post('/auth/password', {
      currentPassword: password,
      newPassword: `${password} changed`,
    });
    expect(changed.status, JSON.stringify(changed.body)).toBeLessThan(300);
    expect((await api.post('/auth/logout', { refreshToken: api.refreshToken })).status).toBe(204);
    const opened = await grants.open(id);
    expect(opened).toMatchObject({ userId, purpose: 'backup-schedule:sched-1' });
    const resolved = await app
      .get(CredentialsService)
      .resolve(userId, credential.body.id, opened.dataKey);
    expect(resolved.secrets.secretAccessKey).toBe(secret);

    // The wrapped key is bound to its purpose: a row edited to serve something else opens nothing.
    const rows = app.get<Repository<StandingGrant>>(getRepositoryToken(StandingGrant));
    await rows.update({ id }, { purpose: 'alert-channel:other' });
    await expect(grants.open(id)).rejects.toThrow();
    await rows.update({ id }, { purpose: 'backup-schedule:sched-1' });

    // Another user neither sees nor revokes it.
    const other = new ApiClient(baseUrl);
    await other.signUp('standing-other');
    expect((await other.get<GrantBody[]>('/account/grants')).body).toEqual([]);
    const foreign = await other.delete<ErrorBody>(`/account/grants/${id}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('GRANT_NOT_FOUND');
    await grants.open(id);

    // The owner revokes it: the next open fails, and it is gone from the list.
    expect((await api.login(email, `${password} changed`)).status).toBe(200);
    expect((await api.get<GrantBody[]>('/account/grants')).body[0]!.lastUsedAt).not.toBeNull();
    expect((await api.delete(`/account/grants/${id}`)).status).toBe(204);
    await expect(grants.open(id)).rejects.toThrow(GrantUnavailableError);
    expect((await api.get<GrantBody[]>('/account/grants')).body).toEqual([]);
  });

  it('one grant per purpose; deleting what it serves deletes its grant', async () => {
    const api = new ApiClient(baseUrl);
    const { userId } = await api.signUp('standing-purpose');
    const auth = await app.get(Tokens).verifyAccessToken(api.accessToken!);
    const grants = app.get(StandingGrants);
    const first = await grants.issue(auth, 'alert-channel:c1');
    const second = await grants.issue(auth, 'alert-channel:c1');
    const kept = await grants.issue(auth, 'alert-channel:c2');
    await expect(grants.open(first)).rejects.toThrow(GrantUnavailableError);
    expect((await grants.list(userId)).map((grant) => grant.id).sort()).toEqual(
      [second, kept].sort(),
    );
    await grants.revokeFor(userId, 'alert-channel:c1');
    await expect(grants.open(second)).rejects.toThrow(GrantUnavailableError);
    expect((await grants.open(kept)).purpose).toBe('alert-channel:c2');
    await expect(grants.issue(auth, 'no purpose here')).rejects.toThrow(/purpose/);
  });
});
