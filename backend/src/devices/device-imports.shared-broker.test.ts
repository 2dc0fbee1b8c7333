import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import mqtt from 'mqtt';
import { DataSource, IsNull } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import {
  checkWithHostList,
  giveCertificateAuthority,
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../../test/shared-broker-platform';
import { tempDir, waitFor } from '../../test/test-env';
import { AuditEvent } from '../audit/audit-event.entity';
import { Deployment } from '../deployments/deployment.entity';
import { DeploymentLogEntry } from '../deployments/deployment-log-entry.entity';
import { Platform } from '../platforms/platform.entity';
import { PlatformHost } from '../provision/platform-host';
import { DeviceImportStore } from './device-import-store';
import { DeviceLocks } from './device-locks';
import { Device } from './device.entity';

type ImportStatus = {
  status: string;
  error: string | null;
  total: number;
  done: number;
  created: number;
  skipped: string[];
  revoked: string[];
  passwordsAvailable: boolean;
};

/**
 * Bulk import (issue 14 item 7) against a real RabbitMQ: the shared test broker stands in for a
 * platform's (test/shared-broker-platform.ts). The API runs without a worker while the platform
 * record is made (its launch must never run), then a worker process of the same app (same data
 * directory and queue) takes the import jobs.
 */
describe('Device import from CSV (shared test RabbitMQ over SSH, a real worker)', () => {
  let app: INestApplication;
  let worker: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let platformId: string;
  let devices: string;
  const made = new Set<string>();

  beforeAll(async () => {
    const dataDir = tempDir();
    const env = { QUEUE_PREFIX: `fs-test-${randomUUID()}` };
    const started = await startTestApp({ role: 'api', dataDir, env });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    await api.signUp('importer');
    ({ platformId, broker } = await sharedBrokerPlatform(app, api));
    devices = `/platforms/${platformId}/devices`;
    // The registration's launch never runs here: end its deployment before a worker starts.
    await app
      .get(DataSource)
      .getRepository(Deployment)
      .update(
        { targetId: platformId, action: 'launch' },
        { status: 'cancelled', activeKey: null, finishedAt: new Date() },
      );
    worker = (await startTestApp({ role: 'worker', dataDir, env })).app;
  }, 120_000);

  afterAll(async () => {
    // Broker users are global on the shared broker: leave none behind.
    for (const name of made) await broker?.api('DELETE', `/users/${name}`);
    // The revocation list was written to the "host" (the test sshd is this machine).
    if (platformId) {
      rmSync(app.get(PlatformHost).layout(platformId).platformDir, {
        recursive: true,
        force: true,
      });
    }
    await worker?.close();
    await app?.close();
  });

  function csvOf(names: string[], labels = (index: number) => `batch=b${index % 3};site=s1`) {
    names.forEach((name) => made.add(name));
    return ['name,labels', ...names.map((name, index) => `${name},${labels(index)}`)].join('\n');
  }

  /** Starts an import and waits until its job has finished, however it ended. */
  async function importToEnd(csv: string, revokeMissing = false): Promise<[string, ImportStatus]> {
    const started = await api.post<{ id: string; rows: number }>(`${devices}/import`, {
      csv,
      revokeMissing,
    });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    const finished = await waitFor(
      async () => {
        const { body } = await api.get<ImportStatus>(`${devices}/imports/${started.body.id}`);
        return ['succeeded', 'failed'].includes(body.status) ? body : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 50, what: 'the import job' },
    );
    return [started.body.id, finished];
  }

  async function importAndWait(
    csv: string,
    revokeMissing = false,
  ): Promise<[string, ImportStatus]> {
    const [id, finished] = await importToEnd(csv, revokeMissing);
    expect(finished.error).toBeNull();
    expect(finished.status).toBe('succeeded');
    expect(finished.done).toBe(finished.total);
    return [id, finished];
  }

  async function exportPasswords(importId: string, downloadToken?: string): Promise<Response> {
    return fetch(`${api.baseUrl}/api/v1${devices}/imports/${importId}/passwords`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.accessToken!}`, 'content-type': 'application/json' },
      body: JSON.stringify(downloadToken ? { downloadToken } : {}),
    });
  }

  /** The CSV's `name,password` lines as a map. */
  async function passwordsOf(download: Response): Promise<Map<string, string>> {
    const [header, ...lines] = (await download.text()).trim().split('\n');
    expect(header).toBe('name,password');
    return new Map(lines.map((line) => line.split(',') as [string, string]));
  }

  async function mqttPublish(name: string, password: string): Promise<void> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.mqttPort}`, {
      username: name,
      password,
      clientId: name,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      await client.publishAsync(`telemetry/temperature/${name}`, '{"value":21.5}', { qos: 1 });
    } finally {
      await client.endAsync();
    }
  }

  const prefix = uniqueDeviceName('imp');
  const names = Array.from({ length: 50 }, (_, index) => `${prefix}-${index}`);
  let passwords = new Map<string, string>();

  it('imports 50 devices as a job with progress; their passwords download once as CSV; devices log in over MQTT and publish', async () => {
    const [importId, status] = await importAndWait(csvOf(names));
    expect(status).toMatchObject({ total: 50, created: 50, skipped: [], revoked: [] });
    expect(status.passwordsAvailable).toBe(true);

    const listed = await api.get<{ name: string; labels: Record<string, string> }[]>(
      `${devices}?prefix=${prefix}`,
    );
    expect(listed.body).toHaveLength(50);
    expect(listed.body.find(({ name }) => name === names[4])!.labels).toEqual({
      batch: 'b1',
      site: 's1',
    });

    const download = await exportPasswords(importId);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(download.headers.get('cache-control')).toBe('no-store');
    const [header, ...lines] = (await download.text()).trim().split('\n');
    expect(header).toBe('name,password');
    passwords = new Map(lines.map((line) => line.split(',') as [string, string]));
    expect([...passwords.keys()].sort()).toEqual([...names].sort());

    for (const name of [names[0]!, names[17]!, names[49]!]) {
      await mqttPublish(name, passwords.get(name)!);
    }
    await expect(mqttPublish(names[1]!, 'not-its-password')).rejects.toThrow();

    const again = await exportPasswords(importId);
    expect(again.status).toBe(410);
    expect(((await again.json()) as ErrorBody).error.code).toBe('PASSWORDS_ALREADY_EXPORTED');
    expect(
      (await api.get<ImportStatus>(`${devices}/imports/${importId}`)).body.passwordsAvailable,
    ).toBe(false);

    // No password in the job's log or the audit trail.
    const dataSource = app.get(DataSource);
    const audit = await dataSource.getRepository(AuditEvent).find();
    const log = await dataSource
      .getRepository(DeploymentLogEntry)
      .findBy({ deploymentId: importId });
    expect(log.map(({ message }) => message).join('\n')).toContain('50 created');
    expect(audit.filter(({ type }) => type === 'device_created')).toHaveLength(50);
    expect(audit.filter(({ type }) => type === 'device_password_revealed')).toHaveLength(50);
    const stored = JSON.stringify([audit, log]);
    for (const password of passwords.values()) expect(stored).not.toContain(password);
  }, 120_000);

  it('re-importing the list without some names and revokeMissing revokes them (an allowlist); listed names are skipped', async () => {
    const kept = names.slice(0, 40);
    const [, status] = await importAndWait(csvOf(kept), true);
    expect(status.created).toBe(0);
    expect(status.skipped.sort()).toEqual([...kept].sort());
    // The launch's own device is not in the list either: revoked too.
    expect(status.revoked).toEqual(expect.arrayContaining(names.slice(40)));
    expect(status.total).toBe(status.revoked.length);
    expect(status.passwordsAvailable).toBe(false);

    await expect(mqttPublish(names[45]!, passwords.get(names[45]!)!)).rejects.toThrow();
    await mqttPublish(names[5]!, passwords.get(names[5]!)!);
    const revoked = await app
      .get(DataSource)
      .getRepository(Device)
      .findOneByOrFail({ platformId, name: names[45]! });
    expect(revoked.revokedAt).not.toBeNull();
    expect(revoked.password).toBeNull();
    const users = await broker.api('GET', `/users/${names[45]!}`);
    expect(users.status).toBe(404);
  }, 120_000);

  it('refuses 10,001 rows (413), bad rows (400 with row numbers), duplicates (400) and a platform that is not running (409); nothing applied', async () => {
    const repository = app.get(DataSource).getRepository(Device);
    const before = await repository.countBy({ platformId, revokedAt: IsNull() });

    const tooMany = Array.from({ length: 10_001 }, (_, index) => `big-${index}`).join('\n');
    const refused = await api.post<ErrorBody>(`${devices}/import`, { csv: tooMany });
    expect(refused.status).toBe(413);
    expect(refused.body.error.code).toBe('TOO_MANY_ROWS');

    const fresh = uniqueDeviceName('bad');
    const bad = await api.post<ErrorBody>(`${devices}/import`, {
      csv: `name,labels\n${fresh}-a,site=x\nNot_A_Name,\n${fresh}-b,novalue\n${fresh}-a,\n`,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    const details = bad.body.error.details as { field: string; problems: string[] }[];
    expect(details.map(({ field }) => field)).toEqual(['row 3', 'row 4', 'row 5']);
    expect(details[2]!.problems[0]).toMatch(/duplicate name .* \(row 2\)/);

    const platforms = app.get(DataSource).getRepository(Platform);
    await platforms.update(platformId, { status: 'failed' });
    try {
      const stopped = await api.post<ErrorBody>(`${devices}/import`, { csv: `${fresh}-c\n` });
      expect(stopped.status).toBe(409);
      expect(stopped.body.error.code).toBe('PLATFORM_NOT_RUNNING');
    } finally {
      await platforms.update(platformId, { status: 'running' });
    }

    expect(await repository.countBy({ platformId, revokedAt: IsNull() })).toBe(before);
    expect(await repository.countBy({ platformId, name: `${fresh}-a` })).toBe(0);
    expect((await broker.api('GET', `/users/${fresh}-a`)).status).toBe(404);
  }, 60_000);

  it('a download whose answer was lost can be retried with its download token (same passwords); any other second call is 410', async () => {
    const active = (await api.get<{ name: string }[]>(`${devices}?status=active`)).body.map(
      ({ name }) => name,
    );
    const fresh = Array.from({ length: 3 }, (_, index) => `${uniqueDeviceName('retry')}-${index}`);
    const [importId, status] = await importAndWait(csvOf([...active, ...fresh]));
    expect(status.created).toBe(3);

    const token = randomUUID();
    const first = await exportPasswords(importId, token);
    expect(first.status).toBe(200);
    // The client never read that answer (a dropped connection); it retries with its token.
    const retried = await exportPasswords(importId, token);
    expect(retried.status).toBe(200);
    const passwords = await passwordsOf(retried);
    expect([...passwords.keys()].sort()).toEqual([...fresh].sort());
    expect(await passwordsOf(first)).toEqual(passwords);
    await mqttPublish(fresh[1]!, passwords.get(fresh[1]!)!);

    for (const other of [randomUUID(), undefined]) {
      const refused = await exportPasswords(importId, other);
      expect(refused.status).toBe(410);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('PASSWORDS_ALREADY_EXPORTED');
    }
    const badToken = await exportPasswords(importId, 'not-a-uuid');
    expect(badToken.status).toBe(400);
    // A device rotated since is no longer in a retry: its password is the rotation's.
    expect((await api.post(`${devices}/${fresh[0]!}/rotate`)).status).toBe(201);
    const afterRotate = await passwordsOf(await exportPasswords(importId, token));
    expect([...afterRotate.keys()].sort()).toEqual([fresh[1], fresh[2]].sort());
  }, 120_000);

  it('a retry after a download that failed between its claim and its marks still answers every password', async () => {
    const active = (await api.get<{ name: string }[]>(`${devices}?status=active`)).body.map(
      ({ name }) => name,
    );
    const fresh = Array.from({ length: 2 }, (_, index) => `${uniqueDeviceName('claim')}-${index}`);
    const [importId, status] = await importAndWait(csvOf([...active, ...fresh]));
    expect(status.created).toBe(2);
    const token = randomUUID();
    // The first download claimed the passwords, then failed before marking any device.
    expect(await app.get(DeviceImportStore).claimExport(importId, new Date(), token)).toBeNull();
    const retried = await exportPasswords(importId, token);
    expect(retried.status).toBe(200);
    expect([...(await passwordsOf(retried)).keys()].sort()).toEqual([...fresh].sort());
  }, 120_000);

  it('an import that fails while revoking keeps the devices it created, and their passwords download once; its revokes wait for no device lock held elsewhere', async () => {
    const active = (await api.get<{ name: string }[]>(`${devices}?status=active`)).body.map(
      ({ name }) => name,
    );
    const [busy, ...kept] = active;
    const fresh = Array.from({ length: 4 }, (_, index) => `${uniqueDeviceName('fail')}-${index}`);
    // Another change of `busy` holds its lock for the whole import: revoking it must not go on.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const holding = app.get(DeviceLocks).hold(platformId, busy!, () => released);
    let status: ImportStatus;
    let importId: string;
    try {
      [importId, status] = await importToEnd(csvOf([...kept, ...fresh]), true);
    } finally {
      release();
      await holding;
    }
    expect(status.status).toBe('failed');
    expect(status.error).toMatch(new RegExp(`${busy!}.*in progress`));
    expect(status.revoked).toEqual([]);
    expect(status.created).toBe(4);
    expect(status.passwordsAvailable).toBe(true);
    // Not revoked behind the lock holder's back: registry and broker still have it.
    const record = await app
      .get(DataSource)
      .getRepository(Device)
      .findOneByOrFail({ platformId, name: busy!, revokedAt: IsNull() });
    expect(record.password).not.toBeNull();
    expect((await broker.api('GET', `/users/${busy!}`)).status).toBe(200);

    const download = await exportPasswords(importId);
    expect(download.status).toBe(200);
    const passwords = await passwordsOf(download);
    expect([...passwords.keys()].sort()).toEqual([...fresh].sort());
    await mqttPublish(fresh[3]!, passwords.get(fresh[3]!)!);
    expect((await exportPasswords(importId)).status).toBe(410);
  }, 120_000);

  it("revokeMissing lists a revoked certificate device's certificate on the host's revocation list", async () => {
    const ca = await giveCertificateAuthority(app, api, platformId);
    const device = uniqueDeviceName('imp-cert');
    made.add(device);
    const created = await api.post<{ certificate: { certificatePem: string } }>(devices, {
      name: device,
      authKind: 'certificate',
    });
    expect(created.status).toBe(201);
    const { certificatePem } = created.body.certificate;
    const others = (await api.get<{ name: string }[]>(`${devices}?status=active`)).body
      .map(({ name }) => name)
      .filter((name) => name !== device);

    const [, status] = await importAndWait(csvOf(others), true);
    expect(status.revoked).toEqual([device]);
    expect(await checkWithHostList(app, platformId, ca.certificatePem, certificatePem)).toBe(
      'revoked',
    );
    expect((await broker.api('GET', `/users/${device}`)).status).toBe(404);
  }, 120_000);
});
