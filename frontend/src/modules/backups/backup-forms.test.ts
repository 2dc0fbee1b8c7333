import { describe, expect, it } from 'vitest';
import {
  describeDrill,
  describeDrillProof,
  describeRetention,
  describeStoredBackup,
  describeWhen,
  drillUnavailable,
  formatBytes,
  formatDuration,
  newScheduleForm,
  restoreRequestBody,
  scheduleRequestBody,
  sortStoredBackups,
  type StoredBackup,
} from './backup-forms';

const CREDENTIAL = '7d1c0f3e-1b2a-4c5d-8e9f-0a1b2c3d4e5f';

describe('scheduleRequestBody', () => {
  it('sends a preset with the retention counts as numbers', () => {
    const form = { ...newScheduleForm(CREDENTIAL), when: 'weekly' as const, keepWeekly: ' 4 ' };
    expect(scheduleRequestBody(form)).toEqual({
      body: {
        credentialId: CREDENTIAL,
        preset: 'weekly',
        keepLast: 7,
        keepDaily: 0,
        keepWeekly: 4,
        drill: 'off',
      },
    });
    expect(scheduleRequestBody({ ...form, drill: 'weekly' })).toMatchObject({
      body: { drill: 'weekly' },
    });
  });

  it('sends a trimmed cron expression instead of a preset, and leaves judging it to the API', () => {
    const form = { ...newScheduleForm(CREDENTIAL), when: 'cron' as const, cron: ' 30 2 * * * ' };
    const result = scheduleRequestBody(form);
    expect(result).toMatchObject({ body: { cron: '30 2 * * *' } });
    expect(result).not.toHaveProperty('body.preset');
    expect(scheduleRequestBody({ ...form, cron: 'every minute' })).toMatchObject({
      body: { cron: 'every minute' },
    });
  });

  it('names each field it cannot send, by the API field names', () => {
    const form = {
      ...newScheduleForm(),
      when: 'cron' as const,
      cron: '  ',
      keepLast: '0',
      keepDaily: '1.5',
      keepWeekly: '1001',
    };
    const result = scheduleRequestBody(form);
    expect(result).not.toHaveProperty('body');
    expect(Object.keys('errors' in result ? result.errors : {}).sort()).toEqual([
      'credentialId',
      'cron',
      'keepDaily',
      'keepLast',
      'keepWeekly',
    ]);
    expect(scheduleRequestBody({ ...newScheduleForm(CREDENTIAL), keepDaily: '' })).toEqual({
      errors: { keepDaily: 'A whole number from 0 to 1000' },
    });
  });

  it('ignores a cron typed before switching back to a preset', () => {
    const form = { ...newScheduleForm(CREDENTIAL), cron: '*/5 * * * *' };
    expect(scheduleRequestBody(form)).toMatchObject({ body: { preset: 'daily' } });
    expect(scheduleRequestBody(form)).not.toHaveProperty('body.cron');
  });
});

describe('schedule and run descriptions', () => {
  it('describes presets, cron and the retention rules that are on', () => {
    expect(describeWhen({ preset: 'daily', cron: '0 3 * * *' })).toBe('Daily (03:00 UTC)');
    expect(describeWhen({ preset: null, cron: '30 2 * * *' })).toBe('cron 30 2 * * * (UTC)');
    expect(describeRetention({ keepLast: 7, keepDaily: 0, keepWeekly: 0 })).toBe('last 7');
    expect(describeRetention({ keepLast: 3, keepDaily: 14, keepWeekly: 4 })).toBe(
      'last 3, 14 daily, 4 weekly',
    );
  });

  it('formats sizes in binary units and durations from ms to minutes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(23_278_387)).toBe('22 MiB');
    expect(formatBytes(5 * 1024 ** 4)).toBe('5.0 TiB');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(7_840)).toBe('7.8 s');
    expect(formatDuration(125_400)).toBe('2 min 5 s');
  });
});

const stored = (overrides: Partial<StoredBackup>): StoredBackup => ({
  objectKey: 'backups/platforms/p/schedules/s/2026-12-02T10-00-00Z-x.pgdump.enc',
  platformId: 'p',
  scheduleId: 's',
  dumpFormat: 'pgdump',
  createdAt: '2026-12-02T10:00:00.000Z',
  bytes: 2048,
  sha256: 'ab'.repeat(32),
  plaintextBytes: 4096,
  keyOpens: true,
  ...overrides,
});

describe('restore choices', () => {
  it("lists this platform's backups first, each group newest first", () => {
    const old = stored({ objectKey: 'old', createdAt: '2026-12-01T10:00:00.000Z' });
    const recent = stored({ objectKey: 'recent', createdAt: '2026-12-02T10:00:00.000Z' });
    const other = stored({
      objectKey: 'other',
      platformId: 'q',
      createdAt: '2026-12-03T00:00:00Z',
    });
    expect(sortStoredBackups([old, other, recent], 'p').map((item) => item.objectKey)).toEqual([
      'recent',
      'old',
      'other',
    ]);
  });

  it('says whose backup it is and when its backup key is needed', () => {
    expect(describeStoredBackup(stored({}), 'p')).toMatch(/ · this platform · pgdump · 2\.0 KiB$/);
    expect(
      describeStoredBackup(stored({ platformId: '0123456789abcdef', keyOpens: false }), 'p'),
    ).toMatch(/ · platform 01234567 · pgdump · 2\.0 KiB · needs its backup key$/);
  });

  it('sends the backup key only for a backup the account cannot open', () => {
    const body = restoreRequestBody(CREDENTIAL, stored({}), 'c2VjcmV0');
    expect(body).toEqual({ credentialId: CREDENTIAL, objectKey: stored({}).objectKey });
    expect(restoreRequestBody(CREDENTIAL, stored({ keyOpens: false }), ' c2VjcmV0 ')).toEqual({
      credentialId: CREDENTIAL,
      objectKey: stored({}).objectKey,
      backupKey: 'c2VjcmV0',
    });
    expect(restoreRequestBody(CREDENTIAL, stored({ keyOpens: false }), '')).not.toHaveProperty(
      'backupKey',
    );
  });
});

describe('restore drills', () => {
  const iso = (value: string) => value;

  it('offers "Drill now" on running PostgreSQL, TimescaleDB and InfluxDB platforms, with the reason otherwise', () => {
    expect(drillUnavailable({ database: 'postgres', status: 'running' })).toBeNull();
    expect(drillUnavailable({ database: 'timescaledb', status: 'running' })).toBeNull();
    expect(drillUnavailable({ database: 'influxdb', status: 'running' })).toBeNull();
    expect(drillUnavailable({ database: 'mongodb', status: 'running' })).toMatch(
      /^Restore drills need PostgreSQL, TimescaleDB or InfluxDB; this platform runs /,
    );
    expect(drillUnavailable({ database: 'postgres', status: 'failed' })).toBe(
      "A drill runs on the platform's host: the platform is failed, not running",
    );
  });

  it('shows the weekly drill with its next time, or off', () => {
    expect(describeDrill({ drill: 'off', nextDrillAt: null })).toBe('Off');
    expect(describeDrill({ drill: 'weekly', nextDrillAt: '2026-12-03T04:00:00.000Z' }, iso)).toBe(
      'Weekly (next 2026-12-03T04:00:00.000Z)',
    );
  });

  it('shows what a succeeded drill proved, and nothing for other runs', () => {
    const run = {
      kind: 'drill' as const,
      status: 'succeeded' as const,
      readingsCount: 5000,
      recoveryPointAt: '2026-12-02T10:00:00.000Z',
    };
    expect(describeDrillProof(run, iso)).toBe(
      'proves readings up to 2026-12-02T10:00:00.000Z, 5,000 readings',
    );
    expect(describeDrillProof({ ...run, readingsCount: 0, recoveryPointAt: null }, iso)).toBe(
      'restored, 0 readings',
    );
    expect(describeDrillProof({ ...run, readingsCount: 1 }, iso)).toMatch(/, 1 reading$/);
    expect(describeDrillProof({ ...run, status: 'failed' }, iso)).toBeNull();
    expect(describeDrillProof({ ...run, kind: 'backup' }, iso)).toBeNull();
  });
});
