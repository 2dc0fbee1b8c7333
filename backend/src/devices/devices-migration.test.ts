import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceUrl, tempDir } from '../../test/test-env';
import { DataKey } from '../crypto/data-key';
import { Devices1764000500000 } from '../database/migrations/1764000500000-devices';
import { MIGRATIONS } from '../database/migrations/index';
import { ENTITIES } from '../entities';
import { Platform } from '../platforms/platform.entity';
import { Device } from './device.entity';

/**
 * Migration 1764000500000-devices moves the devices a platform was launched with (names on the
 * platform, passwords sealed among its secrets) into the registry, ciphertext as it is: after it,
 * the owner's data key opens each device's password from the registry, and the platform's own
 * secrets keep everything but the device passwords. On both engines: the move is plain SQL.
 */
type Engine = { type: 'better-sqlite3'; database: string } | { type: 'postgres'; url: string };

async function expectLaunchDevicesMoved(engine: Engine): Promise<void> {
  const devicesAt = MIGRATIONS.indexOf(Devices1764000500000);
  const before = new DataSource({ ...engine, migrations: MIGRATIONS.slice(0, devicesAt) });
  await before.initialize();
  await before.runMigrations();
  const dataKey = DataKey.generate();
  const seal = (platformId: string, field: string, value: string) =>
    dataKey.sealField(platformId, field, value);
  const user = {
    id: randomUUID(),
    email: 'owner@example.org',
    username: 'owner',
    passwordHash: 'unused',
    keySalt: 'unused',
    wrappedDataKey: 'unused',
    keyVersion: 1,
    sshPublicKey: 'unused',
    sshPrivateKey: 'unused',
  };
  await before
    .createQueryBuilder()
    .insert()
    .into('users', Object.keys(user))
    .values(user)
    .execute();
  const platformRow = (id: string, activeName: string | null, devices: string[]) => ({
    id,
    userId: user.id,
    name: 'plant',
    activeName,
    target: 'ssh-host',
    credentialId: randomUUID(),
    database: 'postgres',
    dataVolumeGb: 20,
    tls: false,
    ports: '{}',
    options: '{}',
    status: 'running',
    deviceUsers: JSON.stringify(devices),
    secrets: JSON.stringify({
      brokerAdminPassword: seal(id, 'brokerAdminPassword', 'admin-secret'),
      ...Object.fromEntries(
        devices.map((name) => [`device:${name}`, seal(id, `device:${name}`, `pw-${name}`)]),
      ),
    }),
    processorScript: '',
    processorPackages: '{}',
    grafanaPasswordRevealed: false,
    removeDataOnDestroy: false,
  });
  const live = platformRow(randomUUID(), 'owner:plant', ['pi-1', 'pi-2']);
  const destroyed = platformRow(randomUUID(), null, ['old-1']);
  await before
    .createQueryBuilder()
    .insert()
    .into('platforms', Object.keys(live))
    .values([live, destroyed])
    .execute();
  await before.destroy();

  const after = new DataSource({ ...engine, entities: ENTITIES, migrations: MIGRATIONS });
  await after.initialize();
  try {
    await after.runMigrations();
    const devices = await after.getRepository(Device).find({ order: { name: 'ASC' } });
    expect(
      devices.map((device) => ({
        platformId: device.platformId,
        userId: device.userId,
        name: device.name,
        activeName: device.activeName,
        password: dataKey.openField(device.platformId, `device:${device.name}`, device.password!),
        authKind: device.authKind,
        labels: device.labels,
        revokedAt: device.revokedAt,
      })),
    ).toEqual(
      ['pi-1', 'pi-2'].map((name) => ({
        platformId: live.id,
        userId: live.userId,
        name,
        activeName: `${live.id}:${name}`,
        password: `pw-${name}`,
        authKind: 'password',
        labels: {},
        revokedAt: null,
      })),
    );
    const platform = await after.getRepository(Platform).findOneByOrFail({ id: live.id });
    expect(Object.keys(platform.secrets)).toEqual(['brokerAdminPassword']);
    expect(
      dataKey.openField(live.id, 'brokerAdminPassword', platform.secrets.brokerAdminPassword!),
    ).toBe('admin-secret');
  } finally {
    await after.destroy();
  }
}

describe('migration 1764000500000-devices', () => {
  const admin = new Client({ connectionString: serviceUrl('FS_TEST_POSTGRES_URL') });
  const database = `fs_devices_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  });

  it("moves launch devices' sealed passwords into the registry on SQLite", async () => {
    await expectLaunchDevicesMoved({
      type: 'better-sqlite3',
      database: join(tempDir(), 'fieldstation.sqlite'),
    });
  });

  it("moves launch devices' sealed passwords into the registry on PostgreSQL", async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(serviceUrl('FS_TEST_POSTGRES_URL'));
    url.pathname = `/${database}`;
    await expectLaunchDevicesMoved({ type: 'postgres', url: url.toString() });
  });
});
