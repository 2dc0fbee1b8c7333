import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';

const ID = /^[0-9a-f-]{36}$/;
const STORED = '.restore';
const RECEIVING = '.partial';

/**
 * Where an uploaded restore file waits for its job: in the data dir, in its user's folder (so
 * the user's quota can be summed), named by the deployment (= job) id, mode 0600; the job
 * deletes it when the deployment ends. The worker must share the data dir with the API (true
 * for one machine; multi-node installs mount it).
 */
export function restoreUploadPath(dataDir: string, userId: string, deploymentId: string): string {
  if (!ID.test(userId) || !ID.test(deploymentId)) throw new Error('invalid upload id');
  return join(dataDir, 'uploads', userId, `${deploymentId}${STORED}`);
}

/** Deletes a deployment's upload, whichever user's folder holds it (the job knows only its id). */
export async function removeRestoreUpload(dataDir: string, deploymentId: string): Promise<void> {
  const users = await readdir(join(dataDir, 'uploads')).catch(() => [] as string[]);
  await Promise.all(
    users
      .filter((userId) => ID.test(userId))
      .map((userId) => rm(restoreUploadPath(dataDir, userId, deploymentId), { force: true })),
  );
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
 * Receives restore uploads: streamed to disk (never buffered), cut off with 413 at the size
 * limit or at the user's quota, the partial file deleted on any failure or an aborted request.
 */
@Injectable()
export class RestoreUploads {
  /** Bytes being received right now, per user (this process); counted against the quota. */
  private readonly receiving = new Map<string, number>();

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** The largest upload for a platform: the setting, and never more than its data volume. */
  limitFor(dataVolumeGb: number): number {
    return Math.min(this.config.restoreUploadMaxBytes, dataVolumeGb * 1024 ** 3);
  }

  /**
   * Answers 413 before reading anything when the declared length is already too much, then
   * streams the body to a 0600 file in the user's upload folder.
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
    const folder = join(this.config.dataDir, 'uploads', userId);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const partial = join(folder, `${randomUUID()}${RECEIVING}`);
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
    // The request is piped, not part of the pipeline: a failure must not destroy its socket
    // before the 413 is sent; the caller closes the connection after answering instead.
    const written = pipeline(meter, createWriteStream(partial, { mode: 0o600 }));
    const aborted = () => {
      if (!body.complete) meter.destroy(new Error('The upload was aborted'));
    };
    body.once('close', aborted);
    body.pipe(meter);
    try {
      await written;
      if ((await stat(partial)).size === 0) {
        throw new ApiError(HttpStatus.BAD_REQUEST, 'EMPTY_UPLOAD', 'The uploaded dump is empty');
      }
    } catch (error) {
      body.unpipe(meter);
      await rm(partial, { force: true });
      throw error;
    } finally {
      body.off('close', aborted);
      count(-bytes);
    }
    let kept: string | undefined;
    return {
      bytes,
      keepFor: async (deploymentId) => {
        const path = restoreUploadPath(this.config.dataDir, userId, deploymentId);
        await rename(partial, path);
        kept = path;
      },
      discard: async () => {
        await rm(kept ?? partial, { force: true });
      },
    };
  }

  /** What the user's received uploads take on disk (waiting for or in a restore). */
  private async storedBytes(userId: string): Promise<number> {
    const folder = join(this.config.dataDir, 'uploads', userId);
    const names = await readdir(folder).catch(() => [] as string[]);
    const sizes = await Promise.all(
      names
        .filter((name) => name.endsWith(STORED))
        .map((name) =>
          stat(join(folder, name)).then(
            (file) => file.size,
            () => 0,
          ),
        ),
    );
    return sizes.reduce((sum, size) => sum + size, 0);
  }
}
