import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceUrl, tempDir } from '../../test/test-env';
import { StoredRecordAlerts1764002091000 } from '../database/migrations/1764002091000-stored-record-alerts';
import { MIGRATIONS } from '../database/migrations/index';
import { ENTITIES } from '../entities';
import { AlertRule } from './alert-rule.entity';

/**
 * Migration 1764002091000-stored-record-alerts gives platforms launched before it the two new
 * default rules (backup failed, certificate expiring within 30 days), as a launch gives a new
 * platform; a destroyed platform gets none, and the rules a platform had stay as they were.
 */
type Engine = { type: 'better-sqlite3'; database: string } | { type: 'postgres'; url: string };

async function expectDefaultsAdded(engine: Engine): Promise<void> {
  const at = MIGRATIONS.indexOf(StoredRecordAlerts1764002091000);
  const before = new DataSource({ ...engine, migrations: MIGRATIONS.slice(0, at) });
  await before.initialize();
  await before.runMigrations();
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
  const platformRow = (activeName: string | null) => ({
    id: randomUUID(),
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
    deviceUsers: '[]',
    secrets: '{}',
    processorScript: '',
    processorPackages: '{}',
    grafanaPasswordRevealed: false,
    removeDataOnDestroy: false,
  });
  const live = platformRow('owner:plant');
  const destroyed = platformRow(null);
  await before
    .createQueryBuilder()
    .insert()
    .into('platforms', Object.keys(live))
    .values([live, destroyed])
    .execute();
  const kept = {
    id: randomUUID(),
    userId: user.id,
    platformId: live.id,
    kind: 'platform-unhealthy',
    minutes: 3,
    reNotifyMinutes: 15,
    state: 'firing',
  };
  await before
    .createQueryBuilder()
    .insert()
    .into('alert_rules', Object.keys(kept))
    .values(kept)
    .execute();
  await before.destroy();

  const after = new DataSource({ ...engine, entities: ENTITIES, migrations: MIGRATIONS });
  await after.initialize();
  try {
    await after.runMigrations();
    const rules = await after.getRepository(AlertRule).find({ order: { kind: 'ASC' } });
    expect(
      rules.map(({ platformId, userId, kind, minutes, threshold, reNotifyMinutes, state }) => ({
        platformId,
        userId,
        kind,
        minutes,
        threshold,
        reNotifyMinutes,
        state,
      })),
    ).toEqual([
      {
        ...shared(live),
        kind: 'backup-failed',
        minutes: 0,
        threshold: null,
        reNotifyMinutes: 60,
        state: 'ok',
      },
      {
        ...shared(live),
        kind: 'certificate-expiring',
        minutes: 0,
        threshold: 30,
        reNotifyMinutes: 60,
        state: 'ok',
      },
      {
        ...shared(live),
        kind: 'platform-unhealthy',
        minutes: 3,
        threshold: null,
        reNotifyMinutes: 15,
        state: 'firing',
      },
    ]);
  } finally {
    await after.destroy();
  }
}

const shared = (platform: { id: string; userId: string }) => ({
  platformId: platform.id,
  userId: platform.userId,
});

describe('migration 1764002091000-stored-record-alerts', () => {
  const admin = new Client({ connectionString: serviceUrl('FS_TEST_POSTGRES_URL') });
  const database = `fs_alerts_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  });

  it('adds the new default rules to existing platforms on SQLite', async () => {
    await expectDefaultsAdded({
      type: 'better-sqlite3',
      database: join(tempDir(), 'fieldstation.sqlite'),
    });
  });

  it('adds the new default rules to existing platforms on PostgreSQL', async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(serviceUrl('FS_TEST_POSTGRES_URL'));
    url.pathname = `/${database}`;
    await expectDefaultsAdded({ type: 'postgres', url: url.toString() });
  });
});
