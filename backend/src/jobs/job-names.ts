/**
 * Every job Fieldstation queues, in one place: its name and its payload. The API queues by these
 * names, handlers declare them with `@OnJob`, and the worker refuses to start unless each name
 * has exactly one handler. Payloads carry ids only, never a secret (DESIGN §4).
 */
export enum JobName {
  PlatformLaunch = 'platform.launch',
  PlatformDestroy = 'platform.destroy',
  PlatformUpdateProcessor = 'platform.update-processor',
  PlatformDump = 'platform.dump',
  PlatformRestore = 'platform.restore',
  PlatformsHealthCheck = 'platforms.health-check',
  SpaceCreate = 'space.create',
  SpaceDelete = 'space.delete',
  NotificationDeliver = 'notification.deliver',
  BackupScheduled = 'backup.scheduled',
  BackupDrillScheduled = 'backup.drill-scheduled',
  PlatformBackup = 'platform.backup',
  PlatformRestoreBackup = 'platform.restore-backup',
  PlatformRestoreDrill = 'platform.restore-drill',
  DeviceImport = 'device.import',
  PlatformReadingsRetention = 'platform.readings-retention',
  PlatformReadingAlerts = 'platform.reading-alerts',
}

/** The payload of a job that runs a deployment: the deployment (= job) id. */
export interface DeploymentJobData {
  deploymentId: string;
}

/** One notification to one channel (notifications/): the delivery record's id. */
export interface DeliveryJobData {
  deliveryId: string;
}

/** A backup schedule's turn or weekly drill (queued by its BullMQ job schedulers): its id. */
export interface BackupScheduleJobData {
  scheduleId: string;
}

/** A scheduled job: BullMQ's scheduler queues it with an empty payload. */
export type ScheduledJobData = Record<string, never>;

export interface JobPayloads {
  [JobName.PlatformLaunch]: DeploymentJobData;
  [JobName.PlatformDestroy]: DeploymentJobData;
  [JobName.PlatformUpdateProcessor]: DeploymentJobData;
  [JobName.PlatformDump]: DeploymentJobData;
  [JobName.PlatformRestore]: DeploymentJobData;
  [JobName.PlatformsHealthCheck]: ScheduledJobData;
  [JobName.SpaceCreate]: DeploymentJobData;
  [JobName.SpaceDelete]: DeploymentJobData;
  [JobName.NotificationDeliver]: DeliveryJobData;
  [JobName.BackupScheduled]: BackupScheduleJobData;
  [JobName.BackupDrillScheduled]: BackupScheduleJobData;
  [JobName.PlatformBackup]: DeploymentJobData;
  [JobName.PlatformRestoreBackup]: DeploymentJobData;
  [JobName.PlatformRestoreDrill]: DeploymentJobData;
  [JobName.DeviceImport]: DeploymentJobData;
  [JobName.PlatformReadingsRetention]: DeploymentJobData;
  [JobName.PlatformReadingAlerts]: DeploymentJobData;
}

/** Names whose job runs a deployment (what `DeploymentStarter.start` may queue). */
export type DeploymentJobName = {
  [Name in JobName]: JobPayloads[Name] extends DeploymentJobData ? Name : never;
}[JobName];

/** Names queued by a schedule rather than by a request. */
export type ScheduledJobName = {
  [Name in JobName]: JobPayloads[Name] extends ScheduledJobData ? Name : never;
}[JobName];

export const ALL_JOB_NAMES: readonly JobName[] = Object.values(JobName);
