import type { Readable } from 'node:stream';
import { S3ServiceException } from '@aws-sdk/client-s3';
import type { DatabaseChoice } from '@fieldstation/platform-stack';
import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { CredentialsService } from '../credentials/credentials.service';
import { s3ClientFor, s3LocationOf, storageFailureOf } from '../credentials/s3-storage';
import type { DataKey } from '../crypto/data-key';
import { ansibleLogger } from '../deployments/deployment-log-sinks';
import { type DeploymentRun, DeploymentRunner } from '../deployments/deployment-runner';
import { OnJob } from '../jobs/job-handler.decorator';
import { JobName, type BackupScheduleJobData, type DeploymentJobData } from '../jobs/job-names';
import { PlatformAccess } from '../platforms/platform-access';
import { PlatformRecords } from '../platforms/platform-records';
import {
  DUMP_EXTENSIONS,
  type HostUpload,
  PlatformHost,
  type PlatformOperation,
  streamsDump,
} from '../provision/platform-host';
import type { RestoreDrillFigures } from '../provision/restore-drill-plan';
import type { SshTarget } from '../provision/ssh-client';
import {
  type BackupManifest,
  type BackupTarget,
  BackupVerificationError,
  listBackups,
  openBackupKey,
  pruneBackups,
  readManifest,
  restoreStreamFailure,
  scheduleBackupPrefix,
  verifyBackupInto,
  writeBackup,
} from './backup-archive';
import type { BackupRun } from './backup-run.entity';
import { BackupRuns } from './backup-runs.service';
import { BackupSchedules } from './backup-schedules.service';

const MINUTE = 60_000;

/**
 * The worker side of backups: a schedule's turn (no session: its standing grant), the backup
 * deployment (PostgreSQL: `pg_dump` streamed over SSH; others: a dump file on the host read over
 * SFTP; either way through encryption into a multipart upload,
 * read back and verified, then retention within the schedule's own folder) and the restore of a
 * stored backup (read once from the bucket into a file on the host, verified on the way, before
 * the database is touched).
 */
@Injectable()
export class BackupJobs {
  constructor(
    private readonly runs: BackupRuns,
    private readonly schedules: BackupSchedules,
    private readonly runner: DeploymentRunner,
    private readonly platforms: PlatformRecords,
    private readonly access: PlatformAccess,
    private readonly credentials: CredentialsService,
    private readonly host: PlatformHost,
  ) {}

  @OnJob(JobName.BackupScheduled)
  async scheduled(data: BackupScheduleJobData): Promise<void> {
    await this.runs.startScheduled(data.scheduleId);
  }

  @OnJob(JobName.BackupDrillScheduled)
  async drillScheduled(data: BackupScheduleJobData): Promise<void> {
    await this.runs.startScheduledDrill(data.scheduleId);
  }

  @OnJob(JobName.PlatformBackup)
  async backup(_data: DeploymentJobData, job: Job<DeploymentJobData>): Promise<void> {
    await this.runner.run(
      job,
      async (run) => {
        const record = await this.runs.getById(run.deployment.id);
        const platform = await this.platforms.getById(run.deployment.targetId);
        const sshTarget = await this.access.open(run.dataKey).sshTarget(platform);
        const bucket = await this.bucketOf(record, run.dataKey);
        const operation = (signal: AbortSignal) => ({
          platformId: platform.id,
          target: sshTarget,
          onEvent: ansibleLogger(run),
          signal,
        });

        const write = (dump: Readable) =>
          writeBackup(bucket, dump, {
            platformId: platform.id,
            scheduleId: record.scheduleId ?? undefined,
            dumpFormat: DUMP_EXTENSIONS[platform.database],
            dataKey: run.dataKey,
            log: (message) => void run.log({ message }),
          });
        const manifest = streamsDump(platform.database)
          ? await run.step('upload', 120 * MINUTE, async (signal) => {
              await run.log({ message: 'Streaming pg_dump from the host into the bucket' });
              const dump = await this.host.streamDump({
                ...operation(signal),
                database: platform.database,
              });
              return uploadUntilAborted(dump, signal, write);
            })
          : await this.dumpOnHostThenUpload(run, sshTarget, operation, platform.database, write);
        await this.runs.update(record.id, {
          objectKey: manifest.object.key,
          bytes: manifest.object.bytes,
          sha256: manifest.object.sha256,
          durationMs: manifest.durationMs,
        });
        await run.log({
          message: `Stored ${manifest.object.key}: ${manifest.object.bytes} bytes, SHA-256 ${manifest.object.sha256}, ${manifest.durationMs} ms`,
        });

        const schedule = record.scheduleId
          ? await this.schedules.findById(record.scheduleId)
          : null;
        let pruned = 0;
        if (schedule) {
          const deleted = await run.step('prune', 10 * MINUTE, () =>
            pruneBackups(
              bucket,
              scheduleBackupPrefix(bucket.location, platform.id, schedule.id),
              schedule,
            ).catch((error: unknown) => {
              throw storageError(error, 'Pruning old backups failed');
            }),
          );
          pruned = deleted.length;
          await run.log({
            message: deleted.length
              ? `Retention deleted ${deleted.length}: ${deleted.join(', ')}`
              : 'Retention kept every backup of this schedule',
          });
        }
        await this.runs.finish(record.id, { pruned });
      },
      (deployment, error) => this.runs.finish(deployment.id, { error: error.message }),
    );
  }

  @OnJob(JobName.PlatformRestoreBackup)
  async restoreBackup(_data: DeploymentJobData, job: Job<DeploymentJobData>): Promise<void> {
    await this.runner.run(
      job,
      async (run) => {
        const record = await this.runs.getById(run.deployment.id);
        const platform = await this.platforms.getById(run.deployment.targetId);
        const keyring = this.access.open(run.dataKey);
        const sshTarget = await keyring.sshTarget(platform);
        const bucket = await this.bucketOf(record, run.dataKey);
        const backupKey = Buffer.from(
          run.dataKey.openField(record.id, 'backup-key', record.sealedBackupKey!),
          'base64',
        );
        await run.step('verify', 120 * MINUTE, async (signal) => {
          const stored = await readManifest(bucket, record.objectKey!).catch((error) => {
            throw storageError(error, 'Reading the backup failed');
          });
          if (!stored) throw new Error(`${record.objectKey} is no longer in the bucket`);
          await run.log({
            message: `Streaming ${record.objectKey} (${stored.object.bytes} bytes) to a file on the host, verifying it on the way; the database is not touched before it is verified`,
          });
          await verifyOntoHost(
            bucket,
            stored,
            backupKey,
            await this.host.openRestoreUpload(sshTarget, platform.id, stored.plaintext.bytes),
            signal,
          );
          await run.log({
            message:
              'Verified: checksum, authentication tag and archive structure of the file on the host',
          });
        });
        await run.step('restore', 60 * MINUTE, async (signal) =>
          this.host.restore({
            platformId: platform.id,
            target: sshTarget,
            onEvent: ansibleLogger(run),
            signal,
            spec: await keyring.stackSpec(platform),
            readingsRetentionDays: platform.readingsRetentionDays,
          }),
        );
        backupKey.fill(0);
        await this.runs.finish(record.id, {});
      },
      (deployment, error) => this.runs.finish(deployment.id, { error: error.message }),
    );
  }

  /**
   * A restore drill: the schedule's newest backup (from its folder in the bucket) verified whole
   * into a file on the host like a restore's, then loaded from it into a scratch container
   * ({@link PlatformHost.restoreDrill}); the readings it holds and the newest one's time (the
   * recovery point proved) go on the run. Any failure fails the deployment and the run.
   */
  @OnJob(JobName.PlatformRestoreDrill)
  async restoreDrill(_data: DeploymentJobData, job: Job<DeploymentJobData>): Promise<void> {
    await this.runner.run(
      job,
      async (run) => {
        const record = await this.runs.getById(run.deployment.id);
        const platform = await this.platforms.getById(run.deployment.targetId);
        const sshTarget = await this.access.open(run.dataKey).sshTarget(platform);
        const bucket = await this.bucketOf(record, run.dataKey);
        const dump = await run.step('verify', 120 * MINUTE, async (signal) => {
          const folder = scheduleBackupPrefix(bucket.location, platform.id, record.scheduleId!);
          const newest = (
            await listBackups(bucket, folder).catch((error) => {
              throw storageError(error, 'Listing the backups failed');
            })
          ).find((candidate) => candidate.dumpFormat === DUMP_EXTENSIONS[platform.database]);
          if (!newest) throw new Error(`No backup of this schedule under ${folder} to drill`);
          const key = openBackupKey(newest, run.dataKey);
          if (!key) throw new Error(`${newest.object.key}: its key does not open with yours`);
          await this.runs.update(record.id, {
            objectKey: newest.object.key,
            bytes: newest.object.bytes,
            sha256: newest.object.sha256,
            backupCreatedAt: new Date(newest.createdAt),
          });
          await run.log({
            message: `Drilling ${newest.object.key} (made ${newest.createdAt}): streaming it to a file on the host, verifying it on the way; nothing is loaded before it is verified`,
          });
          try {
            const upload = await this.host.openDrillUpload(
              sshTarget,
              platform.id,
              newest.plaintext.bytes,
            );
            await verifyOntoHost(bucket, newest, key, upload, signal);
            await run.log({
              message:
                'Verified: checksum, authentication tag and archive structure of the file on the host',
            });
            return upload;
          } finally {
            key.fill(0);
          }
        });
        let figures: RestoreDrillFigures;
        try {
          figures = await run.step('drill', 60 * MINUTE, (signal) =>
            this.host.restoreDrill({
              platformId: platform.id,
              database: platform.database,
              target: sshTarget,
              signal,
              log: (message) => run.log({ message }),
              dumpPath: dump.path,
            }),
          );
        } finally {
          // The host keeps no copy: its disk is the platform's, and the bucket has the backup.
          await dump.discard().catch((error: Error) =>
            run.log({
              level: 'warn',
              message: `Could not delete ${dump.path}: ${error.message}`,
            }),
          );
        }
        await run.log({
          message: `Drill restored ${figures.readingsCount} readings; recovery point ${figures.newestReadingAt ?? 'none (no readings)'}; scratch container removed`,
        });
        await this.runs.finish(record.id, {
          readingsCount: figures.readingsCount,
          recoveryPointAt: figures.newestReadingAt ? new Date(figures.newestReadingAt) : null,
        });
      },
      (deployment, error) => this.runs.finish(deployment.id, { error: error.message }),
    );
  }

  /** InfluxDB and MongoDB: dump.yml writes a file on the host, read over SFTP, then deleted. */
  private async dumpOnHostThenUpload(
    run: DeploymentRun,
    sshTarget: SshTarget,
    operation: (signal: AbortSignal) => PlatformOperation,
    database: DatabaseChoice,
    write: (dump: Readable) => Promise<BackupManifest>,
  ): Promise<BackupManifest> {
    const { remotePath } = await run.step('dump', 30 * MINUTE, (signal) =>
      this.host.dump({ ...operation(signal), database }),
    );
    try {
      return await run.step('upload', 120 * MINUTE, async (signal) =>
        uploadUntilAborted(await this.host.openDump(sshTarget, remotePath), signal, write),
      );
    } finally {
      // The host keeps no copy: its disk is the platform's, and the bucket has the backup.
      await this.host.removeDump(sshTarget, remotePath).catch((error: Error) =>
        run.log({
          level: 'warn',
          message: `Could not delete ${remotePath}: ${error.message}`,
        }),
      );
    }
  }

  private async bucketOf(record: BackupRun, dataKey: DataKey): Promise<BackupTarget> {
    const credential = await this.credentials.resolve(record.userId, record.credentialId, dataKey);
    return { client: s3ClientFor(credential), location: s3LocationOf(credential) };
  }
}

/** A storage service's failure, named with its own message; anything else as it is. */
export function storageError(error: unknown, what: string): Error {
  if (error instanceof BackupVerificationError) return error;
  const failure = storageFailureOf(error);
  if (error instanceof S3ServiceException || failure.code === 'UNREACHABLE') {
    return new Error(`${what}: ${failure.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * A restore's or drill's one read of the backup: streamed from the bucket into a file on the host
 * while checked against its manifest (size, SHA-256, GCM tag, plaintext SHA-256, structure). On any
 * mismatch, failure or cancel the file is deleted before the step fails, so no loader (restore.yml,
 * the drill's) ever sees unverified bytes ("Refused before touching the platform: …" names what differs).
 */
async function verifyOntoHost(
  bucket: BackupTarget,
  manifest: BackupManifest,
  backupKey: Buffer,
  upload: HostUpload,
  signal: AbortSignal,
): Promise<void> {
  const stop = () => upload.stream.destroy(new Error('The restore was stopped'));
  signal.addEventListener('abort', stop, { once: true });
  if (signal.aborted) stop();
  try {
    await verifyBackupInto(bucket, manifest, backupKey, upload.stream, signal);
  } catch (error) {
    const left = await upload.discard().then(
      () => '',
      (discardError: Error) =>
        `; the partial restore file on the host could not be deleted: ${discardError.message}`,
    );
    if (error instanceof BackupVerificationError) {
      throw new BackupVerificationError(
        `Refused before touching the platform: ${error.message}${left}`,
      );
    }
    const failed = signal.aborted
      ? storageError(error, 'Reading the backup failed')
      : restoreStreamFailure(error);
    failed.message += left;
    throw failed;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** Writes the backup; a cancel or timeout ends the dump stream (and its SSH channel) at once. */
async function uploadUntilAborted(
  dump: Readable,
  signal: AbortSignal,
  write: (dump: Readable) => Promise<BackupManifest>,
): Promise<BackupManifest> {
  const stop = () => dump.destroy(new Error('The upload was stopped'));
  signal.addEventListener('abort', stop, { once: true });
  // Stopped while the stream was being opened: the listener above will never fire.
  if (signal.aborted) stop();
  try {
    return await write(dump);
  } catch (error) {
    throw storageError(error, 'The bucket refused the backup');
  } finally {
    signal.removeEventListener('abort', stop);
  }
}
