import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { FILE_STORE, type FileStore } from '../files/file-store';

const ID = /^[0-9a-f-]{36}$/;
const STORED = '.restore';
const RECEIVING = '.partial';

/** The user's upload folder in the file store: its files are summed for the quota. */
function userFolder(userId: string): string {
  if (!ID.test(userId)) throw new Error('invalid upload id');
  return `uploads/${userId}`;
}

/**
 * Where an uploaded restore file waits for its job: in its user's folder, named by the
 * deployment (= job) id; the job deletes it when the deployment ends.
 */
function restoreUploadKey(userId: string, deploymentId: string): string {
  if (!ID.test(deploymentId)) throw new Error('invalid upload id');
  return `${userFolder(userId)}/${deploymentId}${STORED}`;
}

const megabytes = (bytes: number) => `${Math.floor(bytes / (1024 * 1024))} MB`;

function tooLarge(limit: number): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    'RESTORE_TOO_LARGE',
    `A restore upload may be at most ${megabytes(limit)} for this platform`,
    { maxBytes: limit },
  );
}

function overQuota(quota: number): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    'RESTORE_QUOTA_EXCEEDED',
    `Your restore uploads waiting to be restored may take at most ${megabytes(quota)} together`,
    { quotaBytes: quota },
  );
}

/** A received upload, not yet handed to a job: move it into place or discard it. */
export interface ReceivedUpload {
  bytes: number;
  /** Moves the file to where the deployment's job reads it. */
  keepFor(deploymentId: string): Promise<void>;
  /** Deletes it (a no-op once kept). */
  discard(): Promise<void>;
}

/**
 * Restore uploads, kept in the file store: received streamed (never buffered), cut off with
 * 413 at the size limit or at the user's quota, the partial file deleted on any failure or an
 * aborted request; handed to the restore job; deleted when its deployment ends.
 */
@Injectable()
export class RestoreUploads {
  /** Bytes being received right now, per user (this process); counted against the quota. */
  private readonly receiving = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(FILE_STORE) private readonly files: FileStore,
  ) {}

  /** The largest upload for a platform: the setting, and never more than its data volume. */
  limitFor(dataVolumeGb: number): number {
    return Math.min(this.config.restoreUploadMaxBytes, dataVolumeGb * 1024 ** 3);
  }

  /**
   * Answers 413 before reading anything when the declared length is already too much, then
   * streams the body into the user's upload folder.
   */
  async receive(
    userId: string,
    body: IncomingMessage,
    declaredBytes: number | undefined,
    limit: number,
  ): Promise<ReceivedUpload> {
    const quota = this.config.restoreUploadQuotaBytes;
    const stored = await this.storedBytes(userId);
    const othersReceiving = () => this.receiving.get(userId) ?? 0;
    if (declaredBytes !== undefined) {
      if (declaredBytes > limit) throw tooLarge(limit);
      if (stored + othersReceiving() + declaredBytes > quota) throw overQuota(quota);
    }
    const partial = `${userFolder(userId)}/${randomUUID()}${RECEIVING}`;
    let bytes = 0;
    const count = (delta: number) => {
      const now = othersReceiving() + delta;
      if (now === 0) this.receiving.delete(userId);
      else this.receiving.set(userId, now);
    };
    const meter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        bytes += chunk.length;
        count(chunk.length);
        if (bytes > limit) return done(tooLarge(limit));
        if (stored + othersReceiving() > quota) return done(overQuota(quota));
        done(null, chunk);
      },
    });
    // The request is piped, not part of the store's pipeline: a failure must not destroy its
    // socket before the 413 is sent; the caller closes the connection after answering instead.
    const written = this.files.put(partial, meter);
    const aborted = () => {
      if (!body.complete) meter.destroy(new Error('The upload was aborted'));
    };
    body.once('close', aborted);
    body.pipe(meter);
    try {
      if ((await written) === 0) {
        throw new ApiError(HttpStatus.BAD_REQUEST, 'EMPTY_UPLOAD', 'The uploaded dump is empty');
      }
    } catch (error) {
      body.unpipe(meter);
      await this.files.remove(partial);
      throw error;
    } finally {
      body.off('close', aborted);
      count(-bytes);
    }
    let kept: string | undefined;
    return {
      bytes,
      keepFor: async (deploymentId) => {
        const key = restoreUploadKey(userId, deploymentId);
        await this.files.move(partial, key);
        kept = key;
      },
      discard: async () => {
        await this.files.remove(kept ?? partial);
      },
    };
  }

  /** Runs `work` with a local path to the deployment's upload (Ansible copies it from there). */
  withUpload<T>(
    userId: string,
    deploymentId: string,
    work: (path: string) => Promise<T>,
  ): Promise<T> {
    return this.files.withLocalCopy(restoreUploadKey(userId, deploymentId), work);
  }

  /** Deletes a deployment's upload, whichever user's folder holds it (the job knows its id). */
  async removeFor(deploymentId: string): Promise<void> {
    if (!ID.test(deploymentId)) throw new Error('invalid upload id');
    const files = await this.files.list('uploads');
    await Promise.all(
      files
        .filter(({ key }) => key.endsWith(`/${deploymentId}${STORED}`))
        .map(({ key }) => this.files.remove(key)),
    );
  }

  /** What the user's received uploads take (waiting for or in a restore). */
  private async storedBytes(userId: string): Promise<number> {
    const files = await this.files.list(userFolder(userId));
    return files
      .filter(({ key }) => key.endsWith(STORED))
      .reduce((sum, file) => sum + file.bytes, 0);
  }
}
