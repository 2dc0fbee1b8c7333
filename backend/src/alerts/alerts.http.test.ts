import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { freeLoopbackPort } from '../common/free-port';
import { PlatformHealthObservers } from '../platforms/health-observers';
import { Platform, type HealthStatus } from '../platforms/platform.entity';
import type { AlertEventDto, AlertRuleDto } from './dto/alert-rule.dto';

const MINUTE = 60_000;

/**
 * Alert rules over HTTP against the real app (SQLite, Redis): defaults at launch, names that
 * must exist, and the worker's evaluation after each health check, driven here through the
 * health observers with check times the test chooses.
 */
describe('Alert rules', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  async function launch(api: ApiClient, deviceUsers: string[] = []): Promise<string> {
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: 'pi',
      host: '127.0.0.1',
      port: await freeLoopbackPort(),
      username: 'pi',
      auth: 'generated-key',
    });
    const launched = await api.post<{ platform: { id: string } }>('/platforms', {
      name: `a${Date.now().toString(36)}`,
      target: 'ssh-host',
      credentialId: credential.body.id,
      deviceUsers,
    });
    expect(launched.status).toBe(202);
    return launched.body.platform.id;
  }

  /** One health check of the platform at `at`, as the worker's would report it. */
  async function check(id: string, at: number, status: HealthStatus, messagesFailed = 0) {
    const platform = await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id });
    await app.get(PlatformHealthObservers).notify({
      platform,
      health: { status, reason: null, checkedAt: new Date(at).toISOString() },
      processor: { startedAt: new Date(0).toISOString(), messagesIn: 0, messagesFailed },
      observedAt: new Date(at),
    });
  }

  it('gives a launched platform its default rules, and refuses devices and labels that do not exist', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('ruler');
    const id = await launch(api, ['pi-1']);
    const rules = await api.get<AlertRuleDto[]>(`/platforms/${id}/alert-rules`);
    expect(rules.status).toBe(200);
    expect(
      rules.body.map(({ kind, minutes, threshold, state }) => [kind, minutes, threshold, state]),
    ).toEqual([
      ['platform-unhealthy', 1, null, 'ok'],
      ['dead-letter-rate', 5, 0, 'ok'],
      ['queue-depth', 5, 10_000, 'ok'],
      ['disk-use', 5, 85, 'ok'],
    ]);

    const ghost = await api.post<ErrorBody>(`/platforms/${id}/alert-rules`, {
      kind: 'device-silent',
      minutes: 10,
      device: 'ghost',
    });
    expect(ghost.status).toBe(400);
    expect(ghost.body.error).toMatchObject({
      code: 'UNKNOWN_DEVICE',
      message: 'No device "ghost" on this platform',
    });
    const nowhere = await api.post<ErrorBody>(`/platforms/${id}/alert-rules`, {
      kind: 'device-silent',
      minutes: 10,
      label: 'site:nowhere',
    });
    expect(nowhere.status).toBe(400);
    expect(nowhere.body.error.code).toBe('UNKNOWN_LABEL');
    expect(nowhere.body.error.message).toContain('"site:nowhere"');
    for (const body of [
      { kind: 'queue-depth', minutes: 5 },
      { kind: 'platform-unhealthy', minutes: 5, threshold: 3 },
      { kind: 'platform-unhealthy', minutes: 5, device: 'pi-1' },
      { kind: 'device-silent', minutes: 5, device: 'pi-1', label: 'a:b' },
      { kind: 'disk-full', minutes: 5 },
      { kind: 'platform-unhealthy', minutes: -1 },
      { kind: 'platform-unhealthy', minutes: 5, extra: 1 },
    ]) {
      const answer = await api.post<ErrorBody>(`/platforms/${id}/alert-rules`, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
    }
    const silent = await api.post<AlertRuleDto>(`/platforms/${id}/alert-rules`, {
      kind: 'device-silent',
      minutes: 10,
      device: 'pi-1',
    });
    expect(silent.status).toBe(201);
    expect(silent.body).toMatchObject({ device: 'pi-1', reNotifyMinutes: 60, state: 'ok' });

    const other = new ApiClient(baseUrl);
    await other.signUp('stranger');
    expect((await other.get(`/platforms/${id}/alert-rules`)).status).toBe(404);
    expect((await other.delete(`/platforms/${id}/alert-rules/${silent.body.id}`)).status).toBe(404);
    expect((await api.delete(`/platforms/${id}/alert-rules/${silent.body.id}`)).status).toBe(204);
  });

  it('fires after each health check once the condition holds, notifies once, resolves, and keeps quiet while muted', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('watcher');
    const id = await launch(api);
    const rules = (await api.get<AlertRuleDto[]>(`/platforms/${id}/alert-rules`)).body;
    const unhealthy = rules.find((rule) => rule.kind === 'platform-unhealthy')!;
    const deadLetters = rules.find((rule) => rule.kind === 'dead-letter-rate')!;
    const events = async (ruleId: string) =>
      (await api.get<AlertEventDto[]>(`/platforms/${id}/alert-rules/${ruleId}/events`)).body
        .map(
          (event) =>
            `${(event.at as unknown as string).slice(11, 16)} ${event.kind} ${event.notify}`,
        )
        .reverse();

    const t0 = Date.UTC(2026, 11, 2, 3, 0);
    const minute = (n: number) => t0 + n * MINUTE;
    await check(id, minute(0), 'healthy');
    await check(id, minute(1), 'unreachable');
    expect(await events(unhealthy.id)).toEqual([]);
    await check(id, minute(2), 'unreachable');
    await check(id, minute(3), 'unreachable');
    await check(id, minute(4), 'healthy', 12); // the processor dead-lettered 12 messages
    expect(await events(unhealthy.id)).toEqual(['03:02 fired true', '03:04 resolved true']);
    expect(await events(deadLetters.id)).toEqual(['03:04 fired true']);
    const firing = (await api.get<AlertRuleDto[]>(`/platforms/${id}/alert-rules`)).body.find(
      (rule) => rule.id === deadLetters.id,
    )!;
    expect(firing).toMatchObject({
      state: 'firing',
      detail: '3 dead-lettered messages/min over 5 min (limit 0)',
    });

    const muted = await api.patch<AlertRuleDto>(`/platforms/${id}/alert-rules/${unhealthy.id}`, {
      mutedUntil: new Date(minute(30)).toISOString(),
    });
    expect(muted.status).toBe(200);
    await check(id, minute(5), 'degraded', 12);
    await check(id, minute(6), 'degraded', 12);
    expect(await events(unhealthy.id)).toEqual([
      '03:02 fired true',
      '03:04 resolved true',
      '03:06 fired false',
    ]);
    const badMute = await api.patch<ErrorBody>(`/platforms/${id}/alert-rules/${unhealthy.id}`, {
      mutedUntil: 'tomorrow',
    });
    expect(badMute.status).toBe(400);
  });
});
