import { HttpStatus, Injectable } from '@nestjs/common';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { CredentialsService } from '../credentials/credentials.service';
import { s3ClientFor, s3LocationOf, storageFailureOf } from '../credentials/s3-storage';
import type { DataKey } from '../crypto/data-key';
import { DeploymentStarter } from '../deployments/deployment-starter';
import { JobName } from '../jobs/job-names';
import { PlatformRecords } from '../platforms/platform-records';
import { DUMP_EXTENSIONS } from '../provision/platform-host';
import {
  type BackupManifest,
  type BackupTarget,
  BackupVerificationError,
  listBackups,
  openBackupKey,
  readManifest,
} from './backup-archive';
import { BackupRuns } from './backup-runs.service';
import type {
  BackupKeyDto,
  BackupObjectInput,
  RestoreBackupInput,
  StoredBackupDto,
} from './dto/backup-run.dto';

const badField = (code: string, field: string, message: string) =>
  new ApiError(HttpStatus.BAD_REQUEST, code, message, [{ field, problems: [message] }]);

/** The storage service's failure as a 4xx naming it (a wrong key, a missing bucket…). */
function storageRefused(error: unknown): ApiError {
  const failure = storageFailureOf(error);
  return new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, failure.code, failure.message);
}

const notABackup = (message: string) =>
  new ApiError(HttpStatus.UNPROCESSABLE_ENTITY, 'BACKUP_INVALID', message);

/**
 * What the bucket holds and restoring it: the list of stored backups (every platform's under the
 * credential's prefix, another install's too), a backup's key for restoring it elsewhere, and a
 * restore. The request checks only what its manifest says (present, the platform's dump format, a
 * key to open it) and answers with the deployment at once; reading a GB-sized backup back whole
 * is the job's first step, before anything on the host is touched (backup-jobs.ts).
 */
@Injectable()
export class BackupRestores {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly sessions: SessionsService,
    private readonly platforms: PlatformRecords,
    private readonly starter: DeploymentStarter,
    private readonly runs: BackupRuns,
  ) {}

  async listStored(auth: AuthContext, credentialId: string): Promise<StoredBackupDto[]> {
    const { bucket, dataKey } = await this.bucket(auth, credentialId);
    const manifests = await listBackups(bucket, `${bucket.location.prefix}platforms/`).catch(
      (error: unknown) => {
        throw storageRefused(error);
      },
    );
    return manifests.map((manifest) => ({
      objectKey: manifest.object.key,
      platformId: manifest.platformId,
      scheduleId: manifest.scheduleId ?? null,
      dumpFormat: manifest.dumpFormat,
      createdAt: manifest.createdAt,
      bytes: manifest.object.bytes,
      sha256: manifest.object.sha256,
      plaintextBytes: manifest.plaintext.bytes,
      keyOpens: openBackupKey(manifest, dataKey) !== null,
    }));
  }

  /** The one backup's key, for restoring it on another install (or account). */
  async backupKey(
    auth: AuthContext,
    credentialId: string,
    input: BackupObjectInput,
  ): Promise<BackupKeyDto> {
    const { bucket, dataKey } = await this.bucket(auth, credentialId);
    const manifest = await this.manifest(bucket, input.objectKey);
    const key = openBackupKey(manifest, dataKey);
    if (!key) {
      throw new ApiError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'BACKUP_KEY_NOT_YOURS',
        'This backup was made under another account (or install): its key does not open with yours',
      );
    }
    return { backupKey: key.toString('base64') };
  }

  async restore(
    auth: AuthContext,
    platformId: string,
    input: RestoreBackupInput,
  ): Promise<{ deploymentId: string }> {
    const platform = await this.platforms.getOwned(auth.userId, platformId);
    if (platform.status !== 'running') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_NOT_RUNNING',
        `The platform is ${platform.status}; a restore needs it running`,
      );
    }
    const target = { kind: 'platform' as const, id: platform.id };
    await this.starter.assertIdle(target);
    const { bucket, dataKey } = await this.bucket(auth, input.credentialId);
    const manifest = await this.manifest(bucket, input.objectKey);
    const wanted = DUMP_EXTENSIONS[platform.database];
    if (manifest.dumpFormat !== wanted) {
      throw new ApiError(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'BACKUP_WRONG_DATABASE',
        `This backup is a ${manifest.dumpFormat} dump; the platform's ${platform.database} database restores ${wanted}`,
      );
    }
    const backupKey = input.backupKey
      ? Buffer.from(input.backupKey, 'base64')
      : openBackupKey(manifest, dataKey);
    if (!backupKey) {
      throw badField(
        'BACKUP_KEY_REQUIRED',
        'backupKey',
        'This backup was made under another account (or install): give its backup key',
      );
    }
    const deploymentId = await this.starter.start(
      auth,
      target,
      'restore-backup',
      JobName.PlatformRestoreBackup,
      (id) =>
        this.runs.insertRestore({
          id,
          userId: auth.userId,
          platformId: platform.id,
          kind: 'restore',
          scheduleId: null,
          deploymentId: id,
          credentialId: input.credentialId,
          status: 'running',
          objectKey: manifest.object.key,
          bytes: manifest.object.bytes,
          sha256: manifest.object.sha256,
          durationMs: null,
          pruned: null,
          error: null,
          sealedBackupKey: dataKey.sealField(id, 'backup-key', backupKey.toString('base64')),
        }),
    );
    backupKey.fill(0);
    return { deploymentId };
  }

  private async bucket(
    auth: AuthContext,
    credentialId: string,
  ): Promise<{ bucket: BackupTarget; dataKey: DataKey }> {
    const stored = await this.credentials.get(auth.userId, credentialId);
    if (stored.type !== 's3') {
      throw badField(
        'CREDENTIAL_NOT_S3',
        'credentialId',
        `Credential "${stored.name}" is ${stored.type}; backups are in an s3 credential's bucket`,
      );
    }
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const credential = await this.credentials.resolve(auth.userId, credentialId, dataKey);
    return {
      bucket: {
        client: s3ClientFor(credential, { maxAttempts: 1 }),
        location: s3LocationOf(credential),
      },
      dataKey,
    };
  }

  /** The manifest of a backup under the credential's prefix; 400, 404 or 422 otherwise. */
  private async manifest(bucket: BackupTarget, objectKey: string): Promise<BackupManifest> {
    if (
      !objectKey.startsWith(`${bucket.location.prefix}platforms/`) ||
      !objectKey.endsWith('.enc')
    ) {
      throw badField(
        'NOT_A_BACKUP',
        'objectKey',
        `objectKey must name a backup under ${bucket.location.prefix}platforms/ (ending in .enc)`,
      );
    }
    let manifest: BackupManifest | null;
    try {
      manifest = await readManifest(bucket, objectKey);
    } catch (error) {
      if (error instanceof BackupVerificationError) throw notABackup(error.message);
      throw storageRefused(error);
    }
    if (!manifest) {
      throw new ApiError(
        HttpStatus.NOT_FOUND,
        'BACKUP_NOT_FOUND',
        `No backup ${objectKey} in the bucket (an object without a manifest is not a backup)`,
      );
    }
    return manifest;
  }
}
