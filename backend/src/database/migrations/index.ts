import type { MigrationInterface } from 'typeorm';
import { Accounts1764000000000 } from './1764000000000-accounts';
import { Deployments1764000100000 } from './1764000100000-deployments';
import { SpacesPlatforms1764000200000 } from './1764000200000-spaces-platforms';
import { SessionPreviousRefreshToken1764000310000 } from './1764000310000-session-previous-refresh-token';
import { PlatformPreviousProcessor1764000400000 } from './1764000400000-platform-previous-processor';
import { Devices1764000500000 } from './1764000500000-devices';
import { DevicePasswordRevealed1764000510000 } from './1764000510000-device-password-revealed';
import { StandingGrants1764001800000 } from './1764001800000-standing-grants';
import { BackupSchedules1764001810000 } from './1764001810000-backup-schedules';
import { PlatformMetricSamples1764001900000 } from './1764001900000-platform-metric-samples';
import { Alerts1764001910000 } from './1764001910000-alerts';
import { Notifications1764001920000 } from './1764001920000-notifications';
import { EmailChannels1764001930000 } from './1764001930000-email-channels';
import { DeviceCertificates1764002053000 } from './1764002053000-device-certificates';
import { BackupRuns1764002060000 } from './1764002060000-backup-runs';
import { MetricSampleDevices1764002071700 } from './1764002071700-metric-sample-devices';
import { DiskAndReadingsRetention1764002071900 } from './1764002071900-disk-and-readings-retention';
import { RevokedDeviceCertificates1764002080000 } from './1764002080000-revoked-device-certificates';
import { BackupRunDrillFigures1764002100000 } from './1764002100000-backup-run-drill-figures';
import { BackupScheduleDrill1764002104100 } from './1764002104100-backup-schedule-drill';
import { ReadingAlertDeletions1764002110000 } from './1764002110000-reading-alert-deletions';
import { PlatformPreviousReadingsRetention1764002090000 } from './1764002090000-platform-previous-readings-retention';
import { StoredRecordAlerts1764002091000 } from './1764002091000-stored-record-alerts';
import { ReadingThresholdAlerts1764002095000 } from './1764002095000-reading-threshold-alerts';

/**
 * Migrations in order. They use TypeORM's QueryRunner table API rather than raw SQL so that one
 * migration runs unchanged on SQLite and PostgreSQL.
 */
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Accounts1764000000000,
  Deployments1764000100000,
  SpacesPlatforms1764000200000,
  SessionPreviousRefreshToken1764000310000,
  PlatformPreviousProcessor1764000400000,
  Devices1764000500000,
  DevicePasswordRevealed1764000510000,
  StandingGrants1764001800000,
  BackupSchedules1764001810000,
  PlatformMetricSamples1764001900000,
  Alerts1764001910000,
  Notifications1764001920000,
  EmailChannels1764001930000,
  DeviceCertificates1764002053000,
  BackupRuns1764002060000,
  MetricSampleDevices1764002071700,
  DiskAndReadingsRetention1764002071900,
  RevokedDeviceCertificates1764002080000,
  PlatformPreviousReadingsRetention1764002090000,
  StoredRecordAlerts1764002091000,
  ReadingThresholdAlerts1764002095000,
  BackupRunDrillFigures1764002100000,
  BackupScheduleDrill1764002104100,
  ReadingAlertDeletions1764002110000,
];
