import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  READING_ALERTS_STACK_PATH,
  createStackSpec,
  generateStackSecrets,
  readingAlertUid,
  renderReadingAlerts,
  renderStack,
} from '@fieldstation/platform-stack';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import { BackupSchedule } from '../backups/backup-schedule.entity';
import { BackupRun, type BackupRunStatus } from '../backups/backup-run.entity';
import { freeLoopbackPort } from '../common/free-port';
import { Device } from '../devices/device.entity';
import { Deployment } from '../deployments/deployment.entity';
import { PlatformHealthObservers } from '../platforms/health-observers';
import { PlatformReadingAlerts } from '../platforms/platform-reading-alerts';
import { Platform, type HealthStatus } from '../platforms/platform.entity';
import { AlertRules } from './alert-rules.service';
import type { AlertEventDto, AlertRuleDto } from './dto/alert-rule.dto';

const MINUTE = 60_000;

/**
 * Alert rules over HTTP against the real app (SQLite, Redis): defaults at launch, names that
 * must exist, and the worker's evaluation after each health check, driven here through the
 * health observers with check times the test chooses.
 */

/** A valid reading-threshold rule: room.temperature above 30 for 5 minutes, any device. */
const ROOM_ABOVE_30 = {
  kind: 'reading-threshold',
  minutes: 5,
  measurement: 'room',
  field: 'temperature',
  operator: '>',
  threshold: 30,
};
describe('Alert rules', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    ({ app, baseUrl } = await startTestApp({ role: 'api' }));
  });
  afterAll(async () => {
    await app?.close();
  });

  async function launch(
    api: ApiClient,
    deviceUsers: string[] = [],
    database = 'influxdb',
  ): Promise<string> {
    const credential = await api.post<{ id: string }>('/credentials', {
      type: 'ssh-host',
      name: `pi-${database}`,
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
      database,
    });
    expect(launched.status, JSON.stringify(launched.body)).toBe(202);
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
      ['backup-failed', 0, null, 'ok'],
      ['certificate-expiring', 0, 30, 'ok'],
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
      { kind: 'platform-unhealthy' },
      { kind: 'backup-failed', minutes: 5 },
      { kind: 'backup-failed', threshold: 2 },
      { kind: 'certificate-expiring', threshold: -1 },
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

  it('takes reading thresholds for Grafana with strict names (400 naming the field), none on MongoDB, and queues a deployment for a running platform', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('thresholds');
    const id = await launch(api, ['pi-1']);
    const url = `/platforms/${id}/alert-rules`;
    const valid = ROOM_ABOVE_30;
    const refused: [Record<string, unknown>, string, string][] = [
      [{ ...valid, measurement: "room' OR '1'='1" }, 'VALIDATION_FAILED', 'measurement'],
      [{ ...valid, measurement: '{{ $values }}' }, 'VALIDATION_FAILED', 'measurement'],
      [{ ...valid, field: 'temperature") FROM x --' }, 'VALIDATION_FAILED', 'field'],
      [{ ...valid, field: 'x'.repeat(65) }, 'VALIDATION_FAILED', 'field'],
      [{ ...valid, operator: '==' }, 'VALIDATION_FAILED', 'operator'],
      [{ ...valid, threshold: Number.MAX_VALUE }, 'VALIDATION_FAILED', 'threshold'],
      [{ ...valid, device: "pi-1' OR 'a'='a" }, 'VALIDATION_FAILED', 'device'],
      [{ ...valid, measurement: undefined }, 'VALIDATION_FAILED', 'measurement'],
      [{ ...valid, operator: undefined }, 'VALIDATION_FAILED', 'operator'],
      [{ ...valid, threshold: undefined }, 'VALIDATION_FAILED', 'threshold'],
      [{ ...valid, label: 'site:north' }, 'VALIDATION_FAILED', 'label'],
      [{ ...valid, device: 'pi-9' }, 'UNKNOWN_DEVICE', 'device'],
      [
        { kind: 'queue-depth', minutes: 5, threshold: 10, field: 'x' },
        'VALIDATION_FAILED',
        'field',
      ],
      [{ kind: 'queue-depth', minutes: 5, threshold: -1 }, 'VALIDATION_FAILED', 'threshold'],
    ];
    for (const [body, code, field] of refused) {
      const answer = await api.post<ErrorBody>(url, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code, JSON.stringify(body)).toBe(code);
      expect(answer.body.error.message, JSON.stringify(body)).toContain(field);
    }

    // Not running yet: stored for the launch to render, no deployment.
    const created = await api.post<AlertRuleDto>(url, {
      ...valid,
      threshold: -5,
      operator: '<=',
      device: 'pi-1',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      kind: 'reading-threshold',
      measurement: 'room',
      field: 'temperature',
      operator: '<=',
      threshold: -5,
      device: 'pi-1',
    });
    expect(created.body.deploymentId).toBeUndefined();

    // Running: the change is stored once its deployment is recorded; a second change meanwhile
    // is a 409 that stores nothing (this app has no worker, so the deployment stays queued).
    const platform = await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id });
    // As if the launch had run: the platform runs and its launch deployment ended.
    await app.get(DataSource).getRepository(Platform).update({ id }, { status: 'running' });
    await app
      .get(DataSource)
      .getRepository(Deployment)
      .update({ targetId: id }, { status: 'succeeded', activeKey: null });
    const applied = await api.post<AlertRuleDto>(url, valid);
    expect(applied.status).toBe(201);
    const deployment = await api.get<{ action: string; status: string }>(
      `/deployments/${applied.body.deploymentId}`,
    );
    expect(deployment.body).toMatchObject({ action: 'reading-alerts', status: 'queued' });
    const busy = await api.post<ErrorBody>(url, { ...valid, threshold: 40 });
    expect(busy.status).toBe(409);
    const thresholds = (await api.get<AlertRuleDto[]>(url)).body.filter(
      (rule) => rule.kind === 'reading-threshold',
    );
    expect(thresholds.map((rule) => rule.threshold)).toEqual([-5, 30]);

    await app
      .get(DataSource)
      .getRepository(Platform)
      .update({ id }, { ports: { ...platform.ports, grafana: null } });
    const unpublished = await api.post<ErrorBody>(url, valid);
    expect(unpublished.status).toBe(400);
    expect(unpublished.body.error.code).toBe('GRAFANA_NOT_PUBLISHED');

    const mongo = await launch(api, [], 'mongodb');
    const unsupported = await api.post<ErrorBody>(`/platforms/${mongo}/alert-rules`, valid);
    expect(unsupported.status).toBe(400);
    expect(unsupported.body.error.code).toBe('READING_ALERTS_UNSUPPORTED');
    expect(unsupported.body.error.message).toContain('MongoDB');
  });

  it('takes a PATCH of minutes alone or with a threshold (the stored threshold counts), still refusing what the kind does not take', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('patcher');
    const id = await launch(api, ['pi-1']);
    const url = `/platforms/${id}/alert-rules`;
    const rules = (await api.get<AlertRuleDto[]>(url)).body;
    const ruleOf = (kind: string) => rules.find((rule) => rule.kind === kind)!;
    const reading = await api.post<AlertRuleDto>(url, ROOM_ABOVE_30);
    expect(reading.status).toBe(201);

    const accepted: [AlertRuleDto, Record<string, unknown>, number, number][] = [
      [ruleOf('queue-depth'), { minutes: 7 }, 7, 10_000],
      [ruleOf('queue-depth'), { minutes: 8, threshold: 5 }, 8, 5],
      [ruleOf('disk-use'), { minutes: 7 }, 7, 85],
      [ruleOf('dead-letter-rate'), { minutes: 7 }, 7, 0],
      [ruleOf('certificate-expiring'), { threshold: 14 }, 0, 14],
      // The platform is queued: stored for the launch to render, no deployment.
      [reading.body, { minutes: 7 }, 7, 30],
      [reading.body, { minutes: 9, threshold: -4 }, 9, -4],
    ];
    for (const [rule, body, minutes, threshold] of accepted) {
      const answer = await api.patch<AlertRuleDto>(`${url}/${rule.id}`, body);
      expect(answer.status, `${rule.kind} ${JSON.stringify(body)}`).toBe(200);
      expect(answer.body).toMatchObject({ minutes, threshold });
      expect(answer.body.deploymentId).toBeUndefined();
    }
    const stored = (await api.get<AlertRuleDto[]>(url)).body;
    expect(stored.map(({ kind, minutes, threshold }) => [kind, minutes, threshold])).toEqual([
      ['platform-unhealthy', 1, null],
      ['dead-letter-rate', 7, 0],
      ['queue-depth', 8, 5],
      ['disk-use', 7, 85],
      ['backup-failed', 0, null],
      ['certificate-expiring', 0, 14],
      ['reading-threshold', 9, -4],
    ]);

    const refused: [AlertRuleDto, Record<string, unknown>, string][] = [
      [ruleOf('queue-depth'), { threshold: null }, 'threshold'],
      [ruleOf('queue-depth'), { threshold: -1 }, 'threshold'],
      [ruleOf('disk-use'), { threshold: 101 }, 'threshold'],
      [ruleOf('platform-unhealthy'), { threshold: 3 }, 'threshold'],
      [ruleOf('backup-failed'), { minutes: 5 }, 'minutes'],
      [ruleOf('backup-failed'), { threshold: 1 }, 'threshold'],
    ];
    for (const [rule, body, field] of refused) {
      const answer = await api.patch<ErrorBody>(`${url}/${rule.id}`, body);
      expect(answer.status, `${rule.kind} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error.message).toContain(field);
    }
    expect((await api.get<AlertRuleDto[]>(url)).body).toEqual(stored);
  });

  it('refuses a reading threshold the same as another (409 DUPLICATE_RULE), and takes the shared bound ±1e15 in a form Grafana provisioning renders', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('twins');
    const id = await launch(api, ['pi-1']);
    const url = `/platforms/${id}/alert-rules`;
    const rule = ROOM_ABOVE_30;
    expect((await api.post(url, rule)).status).toBe(201);
    const twin = await api.post<ErrorBody>(url, rule);
    expect(twin.status).toBe(409);
    expect(twin.body.error.code).toBe('DUPLICATE_RULE');
    // Differing in one figure is another rule; made the same by a PATCH, it is refused too.
    const longer = await api.post<AlertRuleDto>(url, { ...rule, minutes: 10 });
    expect(longer.status).toBe(201);
    expect((await api.post(url, { ...rule, device: 'pi-1' })).status).toBe(201);
    const patched = await api.patch<ErrorBody>(`${url}/${longer.body.id}`, { minutes: 5 });
    expect(patched.status).toBe(409);
    expect(patched.body.error.code).toBe('DUPLICATE_RULE');
    expect((await api.patch(`${url}/${longer.body.id}`, { minutes: 10 })).status).toBe(200);

    for (const threshold of [1e15, -1e15]) {
      expect((await api.post(url, { ...rule, threshold })).status).toBe(201);
    }
    expect((await api.post<ErrorBody>(url, { ...rule, threshold: 1.01e15 })).status).toBe(400);
    const platform = await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id });
    const { rules: readingAlerts } = await app.get(AlertRules).readingAlerts(platform);
    expect(readingAlerts).toHaveLength(5);
    const [group] = renderReadingAlerts(platform.database, readingAlerts).groups as {
      rules: { title: string }[];
    }[];
    const titles = group!.rules.map((provisioned) => provisioned.title);
    expect(new Set(titles).size).toBe(5);
  });

  it('answers 409 PLATFORM_BUSY to a reading-threshold change while a step has rendered or is changing the stack, storing nothing', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('busybody');
    const id = await launch(api, ['pi-1']);
    const url = `/platforms/${id}/alert-rules`;
    const rule = ROOM_ABOVE_30;
    const created = await api.post<AlertRuleDto>(url, rule);
    expect(created.status).toBe(201);
    const platforms = app.get(DataSource).getRepository(Platform);
    for (const status of ['configuring', 'verifying', 'updating', 'destroying'] as const) {
      await platforms.update({ id }, { status });
      const added = await api.post<ErrorBody>(url, { ...rule, threshold: 40 });
      expect(added.status, status).toBe(409);
      expect(added.body.error.code).toBe('PLATFORM_BUSY');
      expect(added.body.error.message).toContain(status);
      const patched = await api.patch<ErrorBody>(`${url}/${created.body.id}`, { minutes: 7 });
      expect(patched.status, status).toBe(409);
      expect(patched.body.error.code).toBe('PLATFORM_BUSY');
      expect((await api.delete(`${url}/${created.body.id}`)).status, status).toBe(409);
      // Other kinds are judged here and change at once.
      const queue = (await api.get<AlertRuleDto[]>(url)).body.find(
        (stored) => stored.kind === 'queue-depth',
      )!;
      expect((await api.patch(`${url}/${queue.id}`, { minutes: 6 })).status).toBe(200);
    }
    const thresholds = (await api.get<AlertRuleDto[]>(url)).body.filter(
      (stored) => stored.kind === 'reading-threshold',
    );
    expect(thresholds.map(({ minutes, threshold }) => [minutes, threshold])).toEqual([[5, 30]]);
    for (const status of ['failed', 'waiting_for_host'] as const) {
      await platforms.update({ id }, { status });
      expect((await api.patch(`${url}/${created.body.id}`, { minutes: 8 })).status, status).toBe(
        200,
      );
    }
  });

  it('keeps a reading threshold deleted while the platform is not running as deleteRules of every render until a reload listing it succeeded, and lists the last apply to Grafana', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('deleter');
    const id = await launch(api, ['pi-1']);
    const url = `/platforms/${id}/alert-rules`;
    const rule = ROOM_ABOVE_30;
    const kept = await api.post<AlertRuleDto>(url, rule);
    const doomed = await api.post<AlertRuleDto>(url, { ...rule, threshold: 40 });
    expect([kept.status, doomed.status]).toEqual([201, 201]);
    const platforms = app.get(DataSource).getRepository(Platform);
    await platforms.update({ id }, { status: 'failed' });
    expect((await api.delete(`${url}/${doomed.body.id}`)).status).toBe(204);

    // What the next launch renders (PlatformJobs.launchSpec: these rules and deletions in the
    // stack spec, rendered by platform-stack), without launching.
    const rendered = async () => {
      const platform = await platforms.findOneByOrFail({ id });
      const { rules, deletedUids } = await app.get(PlatformReadingAlerts).forPlatform(platform);
      const spec = createStackSpec({
        address: '198.51.100.1',
        database: platform.database,
        secrets: generateStackSecrets(),
        readingAlerts: rules,
        deletedReadingAlertUids: deletedUids,
      });
      const file = renderStack(spec).files.find(
        (entry) => entry.path === READING_ALERTS_STACK_PATH,
      );
      return parse(file!.content) as {
        groups?: { rules: { uid: string }[] }[];
        deleteRules?: { orgId: number; uid: string }[];
      };
    };
    const afterDelete = await rendered();
    expect(afterDelete.groups![0]!.rules.map((provisioned) => provisioned.uid)).toEqual([
      readingAlertUid(kept.body.id),
    ]);
    expect(afterDelete.deleteRules).toEqual([{ orgId: 1, uid: readingAlertUid(doomed.body.id) }]);
    // Still listed by a later render (a launch that failed before Grafana reloaded changes nothing).
    expect((await rendered()).deleteRules).toEqual(afterDelete.deleteRules);

    // The reading-alerts job reports a reload that succeeded: then the uid goes, and only it.
    await app.get(PlatformReadingAlerts).deletionsApplied(id, [readingAlertUid(randomUUID())]);
    expect((await rendered()).deleteRules).toEqual(afterDelete.deleteRules);
    await app.get(PlatformReadingAlerts).deletionsApplied(id, [readingAlertUid(doomed.body.id)]);
    expect((await rendered()).deleteRules).toBeUndefined();

    // Running: each list shows the platform's last apply to Grafana on its reading thresholds
    // (none yet: the thresholds went with the launch).
    const listed = async () => (await api.get<AlertRuleDto[]>(url)).body;
    const reading = (rules: AlertRuleDto[]) =>
      rules.find((stored) => stored.kind === 'reading-threshold')!;
    expect(reading(await listed()).grafanaApply).toBeNull();
    const deployments = app.get(DataSource).getRepository(Deployment);
    await platforms.update({ id }, { status: 'running' });
    await deployments.update({ targetId: id }, { status: 'succeeded', activeKey: null });
    const created = await api.post<AlertRuleDto>(url, { ...rule, threshold: 50 });
    expect(created.status).toBe(201);
    expect(reading(await listed()).grafanaApply).toEqual({
      deploymentId: created.body.deploymentId,
      status: 'queued',
      error: null,
    });
    await deployments.update(
      { id: created.body.deploymentId! },
      { status: 'failed', activeKey: null, error: 'Grafana answered 401 to the reload' },
    );
    const rules = await listed();
    expect(reading(rules).grafanaApply).toEqual({
      deploymentId: created.body.deploymentId,
      status: 'failed',
      error: 'Grafana answered 401 to the reload',
    });
    // Rules Fieldstation judges itself have nothing applied to Grafana.
    expect(rules.find((stored) => stored.kind === 'queue-depth')!.grafanaApply).toBeUndefined();
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

  it("judges device-silent on the processor's per-device figures: never sent counts from creation, unread keeps the state, a processor restart resolves nothing", async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('silence');
    const id = await launch(api, ['pi-1', 'pi-2']);
    const created = await api.post<AlertRuleDto>(`/platforms/${id}/alert-rules`, {
      kind: 'device-silent',
      minutes: 5,
    });
    expect(created.status).toBe(201);
    const platform = await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id });
    // The devices were just created: the checks below come after, minute by minute.
    const t0 = Date.now() + 1000;
    const minute = (n: number) => new Date(t0 + n * MINUTE);
    const checkWith = async (
      at: number,
      startedAt: number,
      lastReadings: Record<string, number> | null,
    ) => {
      await app.get(PlatformHealthObservers).notify({
        platform,
        health: { status: 'healthy', reason: null, checkedAt: minute(at).toISOString() },
        processor: { startedAt: minute(startedAt).toISOString(), messagesIn: 0 },
        processorDevices:
          lastReadings &&
          Object.fromEntries(
            Object.entries(lastReadings).map(([name, last]) => [
              name,
              { lastReadingAt: minute(last).toISOString(), readingsLastHour: 1 },
            ]),
          ),
        observedAt: minute(at),
      });
      return (await api.get<AlertRuleDto[]>(`/platforms/${id}/alert-rules`)).body.find(
        (rule) => rule.id === created.body.id,
      )!;
    };
    const events = async () =>
      (
        await api.get<AlertEventDto[]>(`/platforms/${id}/alert-rules/${created.body.id}/events`)
      ).body
        .map((event) => `${event.kind} ${event.message.split(': ').slice(1).join(': ')}`)
        .reverse();

    // pi-2 never sent: it has had 1 minute since its creation, then 6.
    expect(await checkWith(1, -60, { 'pi-1': 0.9 })).toMatchObject({
      state: 'ok',
      detail: '2 devices reporting',
    });
    expect(await checkWith(6, -60, { 'pi-1': 5.9 })).toMatchObject({
      state: 'firing',
      detail: 'Silent for 5 min or more: pi-2',
    });
    // Figures not read this check: unknown, the rule stays as it was.
    expect((await checkWith(7, -60, null)).state).toBe('firing');
    // The processor restarted at 7.5 and forgot: pi-2 may have sent before, so nothing resolves…
    expect((await checkWith(8, 7.5, { 'pi-1': 7.9 })).state).toBe('firing');
    // …and five minutes after the restart it is silent for certain.
    expect(await checkWith(13, 7.5, { 'pi-1': 12.9 })).toMatchObject({
      state: 'firing',
      detail: 'Silent for 5 min or more: pi-2',
    });
    expect(await checkWith(14, 7.5, { 'pi-1': 13.9, 'pi-2': 13.5 })).toMatchObject({
      state: 'ok',
      detail: '2 devices reporting',
    });
    expect(await events()).toEqual(['fired Silent for 5 min or more: pi-2', 'resolved resolved']);
  });

  it('judges stored records at each check: "backup failed" until a later run succeeds, "certificate expiring" within the days given', async () => {
    const api = new ApiClient(baseUrl);
    await api.signUp('keeper');
    const id = await launch(api, ['pi-1']);
    const rules = (await api.get<AlertRuleDto[]>(`/platforms/${id}/alert-rules`)).body;
    const backups = rules.find((rule) => rule.kind === 'backup-failed')!;
    const certificates = rules.find((rule) => rule.kind === 'certificate-expiring')!;
    const data = app.get(DataSource);
    const platform = await data.getRepository(Platform).findOneByOrFail({ id });
    const t0 = Date.UTC(2026, 11, 2, 5, 0);
    const minute = (n: number) => t0 + n * MINUTE;
    const scheduleId = randomUUID();
    await data.getRepository(BackupSchedule).insert({
      id: scheduleId,
      userId: platform.userId,
      platformId: id,
      credentialId: platform.credentialId,
      cron: '0 3 * * *',
      preset: 'daily',
      keepLast: 7,
      keepDaily: 0,
      keepWeekly: 0,
      grantId: randomUUID(),
    });
    const storeRun = (status: BackupRunStatus, at: number) =>
      data.getRepository(BackupRun).insert({
        id: randomUUID(),
        userId: platform.userId,
        platformId: id,
        kind: 'backup',
        scheduleId,
        deploymentId: null,
        credentialId: platform.credentialId,
        status,
        objectKey: null,
        bytes: null,
        sha256: null,
        durationMs: null,
        pruned: null,
        error: status === 'failed' ? 'S3 answered 403 AccessDenied for bucket secret-bucket' : null,
        sealedBackupKey: null,
        startedAt: new Date(at),
        finishedAt: status === 'running' ? null : new Date(at + 30_000),
      });
    const rule = async (ruleId: string) =>
      (await api.get<AlertRuleDto[]>(`/platforms/${id}/alert-rules`)).body.find(
        (found) => found.id === ruleId,
      )!;
    const events = async (ruleId: string) =>
      (await api.get<AlertEventDto[]>(`/platforms/${id}/alert-rules/${ruleId}/events`)).body
        .map((event) => `${(event.at as unknown as string).slice(11, 16)} ${event.kind}`)
        .reverse();

    await check(id, minute(0), 'healthy');
    expect(await rule(backups.id)).toMatchObject({ state: 'ok', detail: 'No backup run yet' });
    expect(await rule(certificates.id)).toMatchObject({ state: 'ok', detail: 'No certificates' });

    await storeRun('failed', minute(1));
    await storeRun('running', minute(2)); // not finished: judges nothing yet
    await check(id, minute(3), 'healthy');
    await check(id, minute(4), 'healthy');
    const failed = await rule(backups.id);
    expect(failed).toMatchObject({
      state: 'firing',
      detail: `Last backup failed (latest started ${new Date(minute(1)).toISOString()})`,
    });
    await storeRun('succeeded', minute(5));
    await check(id, minute(6), 'healthy');
    expect(await events(backups.id)).toEqual(['05:03 fired', '05:06 resolved']);
    // A failure of a schedule the user then deleted keeps nothing firing.
    await storeRun('failed', minute(6));
    await data.getRepository(BackupSchedule).delete({ id: scheduleId });
    await check(id, minute(6.5), 'healthy');
    expect(await rule(backups.id)).toMatchObject({ state: 'ok', detail: 'No backup run yet' });
    const backupMessages = (
      await api.get<AlertEventDto[]>(`/platforms/${id}/alert-rules/${backups.id}/events`)
    ).body.map((event) => event.message);
    expect(backupMessages.join(' ')).not.toMatch(/AccessDenied|secret-bucket/);

    const devices = data.getRepository(Device);
    await devices.update(
      { platformId: id, name: 'pi-1' },
      { certificateExpiresAt: new Date(t0 + 10 * 24 * 60 * MINUTE + 60 * MINUTE) },
    );
    await check(id, minute(7), 'healthy');
    expect(await rule(certificates.id)).toMatchObject({
      state: 'firing',
      detail: 'Expiring within 30 days: pi-1 (in 10 days)',
    });
    await api.patch(`/platforms/${id}/alert-rules/${certificates.id}`, { threshold: 7 });
    await check(id, minute(8), 'healthy');
    expect(await rule(certificates.id)).toMatchObject({
      state: 'ok',
      detail: '1 certificates valid beyond 7 days',
    });
    expect(await events(certificates.id)).toEqual(['05:07 fired', '05:08 resolved']);

    const defaulted = await api.post<AlertRuleDto>(`/platforms/${id}/alert-rules`, {
      kind: 'certificate-expiring',
    });
    expect(defaulted.status).toBe(201);
    expect(defaulted.body).toMatchObject({ minutes: 0, threshold: 30, state: 'ok' });
  });
});
