import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';

type Device = { name: string; status: string; labels: Record<string, string> };
type Accepted = { platform: { id: string; status: string } };

/**
 * The device registry's answers to bad input, over HTTP against real PostgreSQL-free SQLite and
 * Redis. The app runs without a worker, so a launched platform stays queued (not running): the
 * broker is never reached here (devices.broker.test.ts covers the running platform).
 */
describe('Devices API: bad input', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  async function queuedPlatform(api: ApiClient, deviceUsers?: string[]) {
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'pi',
      host: '127.0.0.1',
      port: await freeLoopbackPort(),
      username: 'pi',
      auth: 'generated-key',
    });
    return api.post<Accepted & ErrorBody>('/platforms', {
      name: `p${Date.now().toString(36)}`,
      target: 'ssh-host',
      credentialId: credential.body.id,
      ...(deviceUsers ? { deviceUsers } : {}),
    });
  }

  it('registers the launch devices, and refuses changes while the platform is not running', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('fleet');
    const launched = await queuedPlatform(api, ['pi-1', 'pi-2']);
    expect(launched.status).toBe(202);
    const devices = `/platforms/${launched.body.platform.id}/devices`;

    const listed = await api.get<Device[]>(devices);
    expect(listed.status).toBe(200);
    expect(listed.body.map(({ name, status }) => ({ name, status }))).toEqual([
      { name: 'pi-1', status: 'active' },
      { name: 'pi-2', status: 'active' },
    ]);
    for (const device of listed.body) expect(Object.keys(device)).not.toContain('password');
    expect((await api.get<Device[]>(`${devices}?prefix=pi-2`)).body.map((d) => d.name)).toEqual([
      'pi-2',
    ]);
    expect((await api.get<Device[]>(`${devices}?status=revoked`)).body).toEqual([]);

    for (const [method, path, body] of [
      ['POST', devices, { name: 'pi-3' }],
      ['POST', `${devices}/pi-1/rotate`, undefined],
      ['DELETE', `${devices}/pi-1`, undefined],
    ] as const) {
      const answer = await api.request<ErrorBody>(method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(409);
      expect(answer.body.error.code).toBe('PLATFORM_NOT_RUNNING');
    }
    // Labels and metadata are the registry's own: no broker, so no running platform needed.
    const labelled = await api.patch<Device>(`${devices}/pi-1`, {
      labels: { site: 'north' },
      metadata: { firmware: '1.2.0' },
    });
    expect(labelled.status).toBe(200);
    expect(labelled.body.labels).toEqual({ site: 'north' });
    expect(
      (await api.get<Device[]>(`${devices}?label=site:north`)).body.map((d) => d.name),
    ).toEqual(['pi-1']);
    expect((await api.get<Device[]>(`${devices}?label=site:south`)).body).toEqual([]);
  });

  it('never answers a password in the connection; a launch password is revealed once, audited', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('reveal');
    const launched = await queuedPlatform(api, ['pi-1', 'pi-2']);
    const platform = `/platforms/${launched.body.platform.id}`;
    const keysOf = (value: unknown): string[] =>
      typeof value === 'object' && value !== null
        ? Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)])
        : [];

    const before = await api.get<{ devices: unknown[] }>(`${platform}/connection`);
    expect(before.status).toBe(200);
    expect(keysOf(before.body)).not.toContain('password');
    expect(before.body.devices).toEqual([
      { username: 'pi-1', passwordRevealed: false },
      { username: 'pi-2', passwordRevealed: false },
    ]);

    const revealed = await api.post<{ device: Device; password: string }>(
      `${platform}/devices/pi-1/reveal-password`,
    );
    expect(revealed.status).toBe(200);
    expect(revealed.body.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(revealed.body.device).toMatchObject({ name: 'pi-1', passwordRevealed: true });
    const after = await api.get<{ devices: unknown[] }>(`${platform}/connection`);
    expect(JSON.stringify(after.body)).not.toContain(revealed.body.password);
    expect(after.body.devices).toEqual([
      { username: 'pi-1', passwordRevealed: true },
      { username: 'pi-2', passwordRevealed: false },
    ]);
    expect(JSON.stringify((await api.get(`${platform}/devices`)).body)).not.toContain(
      revealed.body.password,
    );

    const again = await api.post<ErrorBody>(`${platform}/devices/pi-1/reveal-password`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('PASSWORD_ALREADY_REVEALED');
    expect(again.body.error.message).toMatch(/rotate/);
    expect(JSON.stringify(again.body)).not.toContain(revealed.body.password);
    const other = await api.post<{ password: string }>(`${platform}/devices/pi-2/reveal-password`);
    expect(other.status).toBe(200);
    expect(other.body.password).not.toBe(revealed.body.password);
    expect((await api.post<ErrorBody>(`${platform}/devices/nope/reveal-password`)).status).toBe(
      404,
    );
    const rival = new ApiClient(baseUrl);
    await rival.signUp('rival-reveal');
    expect((await rival.post(`${platform}/devices/pi-2/reveal-password`)).status).toBe(404);

    const audit =
      await api.get<{ type: string; details: Record<string, string> }[]>('/audit-events');
    const reveals = audit.body.filter(({ type }) => type === 'device_password_revealed');
    expect(reveals.map(({ details }) => details.device).sort()).toEqual(['pi-1', 'pi-2']);
    expect(JSON.stringify(audit.body)).not.toContain(revealed.body.password);
    expect(JSON.stringify(audit.body)).not.toContain(other.body.password);
  });

  it('answers 400 for names that are not DNS labels or are reserved, here and at launch', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('names');
    const launched = await queuedPlatform(api);
    const devices = `/platforms/${launched.body.platform.id}/devices`;
    for (const name of [
      'Pi_1',
      'pi.1',
      '-pi',
      'pi-',
      '1pi',
      'a'.repeat(64),
      '',
      'fieldstation-admin',
      'fieldstation-processor',
    ]) {
      const created = await api.post<ErrorBody>(devices, { name });
      expect(created.status, name).toBe(400);
      expect(created.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(created.body.error.details)).toContain('name');
    }
    for (const deviceUsers of [['ok-1', 'fieldstation-admin'], ['fieldstation-processor'], ['A']]) {
      const refused = await queuedPlatform(api, deviceUsers);
      expect(refused.status, deviceUsers.join()).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    }
    for (const body of [
      { name: 'pi-9', extra: true },
      { name: 'pi-9', labels: { 'bad key': 'x' } },
      { name: 'pi-9', labels: { site: 3 } },
      { name: 'pi-9', metadata: 'text' },
      { name: 'pi-9', metadata: { blob: 'x'.repeat(9000) } },
      { name: 'pi-9', authKind: 'kerberos' },
    ]) {
      const answer = await api.post<ErrorBody>(devices, body);
      expect(answer.status, JSON.stringify(body).slice(0, 60)).toBe(400);
    }
    for (const query of ['status=gone', 'label=nocolon', 'prefix=UPPER']) {
      expect((await api.get(`${devices}?${query}`)).status, query).toBe(400);
    }
  });

  it('answers 404 for unknown devices and for another user’s platform', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('owner');
    const launched = await queuedPlatform(api, ['pi-1']);
    const devices = `/platforms/${launched.body.platform.id}/devices`;
    for (const [method, path] of [
      ['GET', `${devices}/nope`],
      ['PATCH', `${devices}/nope`],
    ] as const) {
      const answer = await api.request<ErrorBody>(
        method,
        path,
        method === 'PATCH' ? {} : undefined,
      );
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error.code).toBe('DEVICE_NOT_FOUND');
    }
    const rival = new ApiClient(baseUrl);
    await rival.signUp('rival');
    for (const [method, path] of [
      ['GET', devices],
      ['GET', `${devices}/pi-1`],
      ['POST', devices],
      ['DELETE', `${devices}/pi-1`],
      ['POST', `${devices}/pi-1/rotate`],
    ] as const) {
      const answer = await rival.request<ErrorBody>(
        method,
        path,
        method === 'POST' && path === devices ? { name: 'pi-7' } : undefined,
      );
      expect(answer.status, `${method} ${path}`).toBe(404);
    }
  });
});
