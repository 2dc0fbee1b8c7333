import type { Schemas } from '../../api/client';
import { DATABASE_LABELS, STATUS_LABELS, type Platform } from '../platforms/platform-status';

export type BackupSchedule = Schemas['BackupScheduleDto'];
export type BackupRun = Schemas['BackupRunDto'];
export type StoredBackup = Schemas['StoredBackupDto'];
export type SchedulePreset = NonNullable<BackupSchedule['preset']>;
export type DrillCadence = BackupSchedule['drill'];

export const PRESET_LABELS: Record<SchedulePreset, string> = {
  hourly: 'Hourly (at :00)',
  daily: 'Daily (03:00 UTC)',
  weekly: 'Weekly (Sunday 03:00 UTC)',
};

export const WHEN_CHOICES: { label: string; value: SchedulePreset | 'cron' }[] = [
  ...(Object.keys(PRESET_LABELS) as SchedulePreset[]).map((value) => ({
    label: PRESET_LABELS[value],
    value,
  })),
  { label: 'A cron expression (UTC)', value: 'cron' },
];

export const DRILL_CHOICES: { label: string; value: DrillCadence }[] = [
  { label: 'Off', value: 'off' },
  { label: 'Weekly', value: 'weekly' },
];

/**
 * The databases whose backups a restore drill can load into a scratch container (the API's
 * `DRILLABLE_DATABASES`; MongoDB has no drill yet).
 */
const DRILLABLE_DATABASES: readonly Platform['database'][] = [
  'postgres',
  'timescaledb',
  'influxdb',
];

export const drillSupported = (database: Platform['database']) =>
  DRILLABLE_DATABASES.includes(database);

/** Why "Drill now" cannot be pressed for this platform, or null when it can. */
export function drillUnavailable(platform: Pick<Platform, 'database' | 'status'>): string | null {
  if (!drillSupported(platform.database)) {
    return `Restore drills need PostgreSQL, TimescaleDB or InfluxDB; this platform runs ${DATABASE_LABELS[platform.database]}`;
  }
  if (platform.status !== 'running') {
    return `A drill runs on the platform's host: the platform is ${STATUS_LABELS[platform.status].toLowerCase()}, not running`;
  }
  return null;
}

/** "Weekly (next …)" or "Off", for the schedules table. */
export function describeDrill(
  schedule: Pick<BackupSchedule, 'drill' | 'nextDrillAt'>,
  formatTime: (iso: string) => string = (iso) => new Date(iso).toLocaleString(),
): string {
  if (schedule.drill === 'off' || !schedule.nextDrillAt) return 'Off';
  return `Weekly (next ${formatTime(schedule.nextDrillAt)})`;
}

/**
 * What a succeeded drill proved: "proves readings up to <time>, N readings"; null for any other
 * run (a failed drill shows its error instead).
 */
export function describeDrillProof(
  run: Pick<BackupRun, 'kind' | 'status' | 'readingsCount' | 'recoveryPointAt'>,
  formatTime: (iso: string) => string = (iso) => new Date(iso).toLocaleString(),
): string | null {
  if (run.kind !== 'drill' || run.status !== 'succeeded' || run.readingsCount === null) {
    return null;
  }
  const count = `${run.readingsCount.toLocaleString('en-US')} reading${run.readingsCount === 1 ? '' : 's'}`;
  if (!run.recoveryPointAt) return `restored, ${count}`;
  return `proves readings up to ${formatTime(run.recoveryPointAt)}, ${count}`;
}

/** The schedule form as typed (numbers as text, as the inputs hold them). */
export interface ScheduleForm {
  credentialId: string;
  when: SchedulePreset | 'cron';
  cron: string;
  keepLast: string;
  keepDaily: string;
  keepWeekly: string;
  drill: DrillCadence;
}

export function newScheduleForm(credentialId = ''): ScheduleForm {
  return {
    credentialId,
    when: 'daily',
    cron: '',
    keepLast: '7',
    keepDaily: '0',
    keepWeekly: '0',
    drill: 'off',
  };
}

const KEEP_LIMITS = { keepLast: 1, keepDaily: 0, keepWeekly: 0 } as const;

/**
 * The request body of a schedule, or the errors of the fields it cannot send (keyed by the API's
 * field names, so they sit where the API's own errors would). The cron expression itself is
 * judged by the API, which names what is wrong with it.
 */
export function scheduleRequestBody(
  form: ScheduleForm,
): { body: Schemas['CreateBackupScheduleInput'] } | { errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (!form.credentialId) errors.credentialId = 'Choose the storage the backups go to';
  const cron = form.cron.trim();
  if (form.when === 'cron' && !cron) {
    errors.cron = 'Give five fields: minute hour day-of-month month day-of-week (UTC)';
  }
  const counts: Record<string, number> = {};
  for (const [field, minimum] of Object.entries(KEEP_LIMITS)) {
    const text = form[field as keyof typeof KEEP_LIMITS].trim();
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < minimum || value > 1000) {
      errors[field] = `A whole number from ${minimum} to 1000`;
    }
    counts[field] = value;
  }
  if (Object.keys(errors).length > 0) return { errors };
  return {
    body: {
      credentialId: form.credentialId,
      ...(form.when === 'cron' ? { cron } : { preset: form.when }),
      keepLast: counts.keepLast,
      keepDaily: counts.keepDaily,
      keepWeekly: counts.keepWeekly,
      drill: form.drill,
    },
  };
}

/** "Daily (03:00 UTC)" or "cron 30 2 * * * (UTC)". */
export function describeWhen(schedule: Pick<BackupSchedule, 'preset' | 'cron'>): string {
  return schedule.preset ? PRESET_LABELS[schedule.preset] : `cron ${schedule.cron} (UTC)`;
}

/** "last 7, 14 daily, 4 weekly": the retention rules that are on. */
export function describeRetention(
  schedule: Pick<BackupSchedule, 'keepLast' | 'keepDaily' | 'keepWeekly'>,
): string {
  return [
    `last ${schedule.keepLast}`,
    schedule.keepDaily > 0 ? `${schedule.keepDaily} daily` : '',
    schedule.keepWeekly > 0 ? `${schedule.keepWeekly} weekly` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** The first 12 hex digits, enough to tell backups apart and to compare with a manifest. */
export const shortSha = (sha256: string) => sha256.slice(0, 12);

/** Tag severities of a run's status. */
export const RUN_SEVERITY: Record<BackupRun['status'], string> = {
  running: 'info',
  succeeded: 'success',
  failed: 'danger',
};

export const RUN_KIND_LABELS: Record<BackupRun['kind'], string> = {
  backup: 'Backup',
  restore: 'Restore',
  drill: 'Restore drill',
};

/** One line naming a stored backup in the restore list: when, which platform, size. */
export function describeStoredBackup(backup: StoredBackup, platformId: string): string {
  const from =
    backup.platformId === platformId
      ? 'this platform'
      : `platform ${backup.platformId.slice(0, 8)}`;
  const made = new Date(backup.createdAt).toLocaleString();
  const key = backup.keyOpens ? '' : ' · needs its backup key';
  return `${made} · ${from} · ${backup.dumpFormat} · ${formatBytes(backup.bytes)}${key}`;
}

/** Backups of this platform first, each group newest first. */
export function sortStoredBackups(backups: StoredBackup[], platformId: string): StoredBackup[] {
  return [...backups].sort(
    (a, b) =>
      Number(b.platformId === platformId) - Number(a.platformId === platformId) ||
      b.createdAt.localeCompare(a.createdAt),
  );
}

/** The restore request: the backup key only for a backup this account cannot open. */
export function restoreRequestBody(
  credentialId: string,
  backup: StoredBackup,
  backupKey: string,
): Schemas['RestoreBackupInput'] {
  const key = backupKey.trim();
  return {
    credentialId,
    objectKey: backup.objectKey,
    ...(backup.keyOpens || !key ? {} : { backupKey: key }),
  };
}
