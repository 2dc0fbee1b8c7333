import { AlertEvent } from './alerts/alert-event.entity';
import { ReadingAlertDeletion } from './alerts/reading-alert-deletion.entity';
import { AlertRule } from './alerts/alert-rule.entity';
import { AuditEvent } from './audit/audit-event.entity';
import { BackupRun } from './backups/backup-run.entity';
import { BackupSchedule } from './backups/backup-schedule.entity';
import { Session } from './auth/session.entity';
import { Credential } from './credentials/credential.entity';
import { DeploymentLogEntry } from './deployments/deployment-log-entry.entity';
import { Deployment } from './deployments/deployment.entity';
import { Device } from './devices/device.entity';
import { RevokedDeviceCertificate } from './devices/revoked-certificate.entity';
import { DeploymentGrant } from './grants/deployment-grant.entity';
import { PlatformMetricSample } from './metrics/platform-metric-sample.entity';
import { StandingGrant } from './grants/standing-grant.entity';
import { NotificationChannel } from './notifications/notification-channel.entity';
import { NotificationDelivery } from './notifications/notification-delivery.entity';
import { Platform } from './platforms/platform.entity';
import { Space } from './spaces/space.entity';
import { User } from './users/user.entity';

/**
 * Every TypeORM entity, registered once; each domain module adds its own here. The list lives at
 * the composition root (beside app.module.ts) and is handed to DatabaseModule, so that database/
 * never imports the features that sit above it.
 */
export const ENTITIES: (new () => object)[] = [
  User,
  Session,
  DeploymentGrant,
  StandingGrant,
  AuditEvent,
  Credential,
  Deployment,
  DeploymentLogEntry,
  Space,
  Platform,
  Device,
  RevokedDeviceCertificate,
  BackupSchedule,
  BackupRun,
  PlatformMetricSample,
  AlertRule,
  AlertEvent,
  ReadingAlertDeletion,
  NotificationChannel,
  NotificationDelivery,
];
