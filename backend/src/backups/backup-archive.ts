import { spawn } from 'node:child_process';
import {
  createCipheriv,
  createDecipheriv,
  type CipherGCM,
  createHash,
  type DecipherGCM,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { PassThrough, type Readable, Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { DataKey } from '../crypto/data-key';
import { type S3Location, storageFailureOf } from '../credentials/s3-storage';
import { expiredBackups, type RetentionPolicy } from './backup-retention';

/** What lies beside each backup object in the bucket, as `<object>.manifest.json`. */
export interface BackupManifest {
  format: 'fieldstation-backup/1';
  backupId: string;
  platformId: string;
  /** The schedule that made it (its retention prunes only its own backups); null when none. */
  scheduleId: string | null;
  /** The dump's database format, e.g. `pgdump` (PostgreSQL custom format). */
  dumpFormat: string;
  createdAt: string;
  /** The encrypted object: AES-256-GCM, the 16-byte tag appended. */
  object: { key: string; bytes: number; sha256: string };
  /** The dump before encryption. */
  plaintext: { bytes: number; sha256: string };
  encryption: {
    algorithm: 'aes-256-gcm';
    iv: string;
    /** The per-backup key, sealed under the owner's data key (AAD: backup id + field). */
    sealedKey: string;
  };
  durationMs: number;
}

export interface BackupTarget {
  client: S3Client;
  location: S3Location;
}

/** A part is held in memory while it uploads: 8 MiB × 2 in flight bounds the orchestrator. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
const TAG_BYTES = 16;
/** The backup hashes, checks and encrypts in pieces of this size (see BackupEncoder). */
const PIECE_BYTES = 1024 * 1024;

export class BackupVerificationError extends Error {}

/**
 * The sink (the file on the host a restore writes) failed, not the bucket: raised where the write
 * or the sink's finish failed, so a restore can say which side broke. `cause` is the sink's error.
 */
export class BackupSinkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/**
 * A restore stream's failure named by the side it came from: the host's file (a full disk, a
 * permission; raised as {@link BackupSinkError} where the write failed), the bucket (the storage
 * service's or the network's errors) or this machine (the check, e.g. pg_restore missing).
 */
export function restoreStreamFailure(error: unknown): Error {
  if (error instanceof BackupSinkError) {
    // OpenSSH's SFTP server answers a full disk or a denied write with a bare "Failure".
    return new Error(
      `Writing the backup to the host failed: ${error.message} (a full disk or a permission in the platform's dumps folder is the usual cause)`,
    );
  }
  if (error instanceof BackupVerificationError) return error;
  const failure = storageFailureOf(error);
  if (error instanceof S3ServiceException || failure.code === 'UNREACHABLE') {
    return new Error(`Reading the backup from the bucket failed: ${failure.message}`);
  }
  return new Error(`Checking the backup failed: ${failure.message}`);
}

/** A failure of the sink's `work` as a {@link BackupSinkError} (once, however many places see it). */
function asSinkFailure<T>(work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw error instanceof BackupSinkError ? error : new BackupSinkError(error);
  });
}

/** Where a platform's backups live in the bucket (a schedule's in a folder below). */
export function platformBackupPrefix(location: S3Location, platformId: string): string {
  return `${location.prefix}platforms/${platformId}/`;
}

/** Where one schedule's backups live: what its retention may prune, and nothing else. */
export function scheduleBackupPrefix(
  location: S3Location,
  platformId: string,
  scheduleId: string,
): string {
  return `${platformBackupPrefix(location, platformId)}schedules/${scheduleId}/`;
}

const MANIFEST_SUFFIX = '.manifest.json';
/** Ours are about 1 KB; a larger one is not read into memory. */
const MANIFEST_MAX_BYTES = 64 * 1024;

/**
 * Streams a dump into the bucket: encrypted on the way (a fresh key per backup, sealed under the
 * owner's data key, so the bucket's owner cannot read it), hashed while it streams, uploaded in
 * parts (never whole on this machine's disk or in its memory). Then reads the object back and
 * proves it: the stored bytes hash to what was sent, the GCM tag authenticates, the plaintext
 * hashes to what was dumped, and the archive passes its structural check. Only then is the
 * manifest written — an object without a manifest is not a backup, and is deleted on failure.
 */
export async function writeBackup(
  target: BackupTarget,
  dump: Readable,
  options: {
    platformId: string;
    /** Puts the backup into the schedule's folder (see {@link scheduleBackupPrefix}). */
    scheduleId?: string;
    dumpFormat: string;
    dataKey: DataKey;
    log?: (line: string) => void;
    now?: Date;
  },
): Promise<BackupManifest> {
  const started = Date.now();
  const loopBefore = performance.eventLoopUtilization();
  const backupId = randomUUID();
  const createdAt = options.now ?? new Date();
  const stamp = createdAt.toISOString().replace(/[:.]/g, '-');
  const folder = options.scheduleId
    ? scheduleBackupPrefix(target.location, options.platformId, options.scheduleId)
    : platformBackupPrefix(target.location, options.platformId);
  const key = `${folder}${stamp}-${backupId}.${options.dumpFormat}.enc`;
  const backupKey = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', backupKey, iv);
  cipher.setAAD(Buffer.from(`fieldstation-backup:${backupId}`));
  const body = new PassThrough();
  const { bucket } = target.location;

  const upload = new Upload({
    client: target.client,
    params: { Bucket: bucket, Key: key, Body: body },
    partSize: PART_BYTES,
    queueSize: PARTS_IN_FLIGHT,
  });
  const log = options.log ?? (() => undefined);
  log(`Uploading to s3://${bucket}/${key}`);
  // The structural check reads the plaintext as it streams past; the read-back below then proves
  // the stored bytes are exactly the ciphertext of what passed it (their size and SHA-256), so
  // the archive is not decompressed a second time.
  const check = structuralCheck(options.dumpFormat);
  const encoder = new BackupEncoder(cipher, check.input);
  const uploading = upload.done();
  try {
    await Promise.all([pipeline(dump, encoder, body), uploading, check.done]);
  } catch (error) {
    // An upload that failed first leaves the dump paused mid-stream: end it (and its SSH channel).
    dump.destroy();
    body.destroy();
    // Destroyed with an error, the check's sink stops pg_restore; that error is not the cause.
    check.input.on('error', () => undefined);
    check.input.destroy(new Error('The backup stream failed'));
    // lib-storage aborts the multipart upload itself; one that finished meanwhile (a failed
    // structural check need not wait for the upload) is removed once it has settled.
    await upload.abort().catch(() => undefined);
    await uploading.catch(() => undefined);
    await deleteKeys(target, [key]).catch(() => undefined);
    throw error;
  }
  const streamedMs = Date.now() - started;
  const loopBusy = performance.eventLoopUtilization(loopBefore).utilization;
  const sha256 = encoder.sha256();
  log(
    `Uploaded ${encoder.encryptedBytes} bytes (${encoder.plainBytes} before encryption), archive structure verified; reading it back`,
  );

  const readBackStarted = Date.now();
  try {
    await readBackStored(target, key, encoder.encryptedBytes, sha256.encrypted);
  } catch (error) {
    await deleteKeys(target, [key]).catch(() => undefined);
    throw error;
  }
  const readBackMs = Date.now() - readBackStarted;
  log('Read back: size and SHA-256 match what was sent');
  log(
    `Stage figures: dump bytes arrived from ${(encoder.firstByteAt ?? started) - started} to ` +
      `${(encoder.lastByteAt ?? started) - started} ms; dump + transfer + check + encryption + hashing + upload ` +
      `(streamed together) ${streamedMs} ms, of it ${encoder.checkWaitedMs} ms waiting for the ` +
      `structural check and ${encoder.uploadWaitedMs} ms for the upload, encryption ${Math.round(encoder.encryptionMs)} ms and hashing ` +
      `${Math.round(encoder.hashingMs)} ms of CPU, this process's event loop busy ` +
      `${Math.round(loopBusy * 100)} % of it; read-back verification ${readBackMs} ms`,
  );

  const manifest: BackupManifest = {
    format: 'fieldstation-backup/1',
    backupId,
    platformId: options.platformId,
    scheduleId: options.scheduleId ?? null,
    dumpFormat: options.dumpFormat,
    createdAt: createdAt.toISOString(),
    object: { key, bytes: encoder.encryptedBytes, sha256: sha256.encrypted },
    plaintext: { bytes: encoder.plainBytes, sha256: sha256.plain },
    encryption: {
      algorithm: 'aes-256-gcm',
      iv: iv.toString('base64'),
      sealedKey: options.dataKey.sealField(backupId, 'backup-key', backupKey.toString('base64')),
    },
    durationMs: Date.now() - started,
  };
  try {
    await target.client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${key}${MANIFEST_SUFFIX}`,
        Body: JSON.stringify(manifest, null, 2),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    await deleteKeys(target, [key]).catch(() => undefined);
    throw error;
  }
  backupKey.fill(0);
  return manifest;
}

/**
 * Reads the object just uploaded and proves it holds exactly the bytes that were sent (their size
 * and SHA-256). Those bytes came from the cipher whose tag and plaintext hash the upload already
 * recorded, so decrypting them again would prove nothing more.
 */
async function readBackStored(
  target: BackupTarget,
  key: string,
  bytes: number,
  sha256: string,
): Promise<void> {
  const read = await target.client.send(
    new GetObjectCommand({ Bucket: target.location.bucket, Key: key }),
  );
  const stored = new Measure(bytes);
  await pipeline(read.Body as Readable, stored, new Writable({ write: (_c, _e, done) => done() }));
  assertSentBytes(stored, bytes, sha256);
}

function assertSentBytes(stored: Measure, bytes: number, sha256: string): void {
  if (stored.sha256() !== sha256 || stored.bytes !== bytes) {
    throw new BackupVerificationError(
      `The stored object differs from what was sent: ${stored.bytes} bytes with SHA-256 ${stored.sha256()}, sent ${bytes} bytes with ${sha256}`,
    );
  }
}

/** What reading a stored backup back needs to know, from its manifest or from the upload. */
interface StoredObject {
  key: string;
  bytes: number;
  sha256: string;
  plaintextSha256: string;
  plaintextBytes: number;
  backupId: string;
  iv: Buffer;
}

/**
 * Streams a stored backup's plaintext into `sink`, decrypting on the way; throws
 * BackupVerificationError after the last byte unless the stored bytes, the GCM tag and the
 * plaintext all match. The sink has then seen unauthenticated bytes: callers discard them.
 */
async function readVerified(
  target: BackupTarget,
  object: StoredObject,
  backupKey: Buffer,
  sink: Writable,
  signal?: AbortSignal,
): Promise<void> {
  const read = await target.client.send(
    new GetObjectCommand({ Bucket: target.location.bucket, Key: object.key }),
    { abortSignal: signal },
  );
  const stored = new Measure(object.bytes);
  const plain = new Measure(object.plaintextBytes, 'The decrypted backup');
  const decipher = createDecipheriv('aes-256-gcm', backupKey, object.iv);
  decipher.setAAD(Buffer.from(`fieldstation-backup:${object.backupId}`));
  const untag = new HoldBackTail(TAG_BYTES);
  await pipeline(
    read.Body as Readable,
    stored,
    untag,
    new DecipherUntilTag(decipher, untag),
    plain,
    sink,
    { signal },
  );
  assertSentBytes(stored, object.bytes, object.sha256);
  if (plain.sha256() !== object.plaintextSha256) {
    throw new BackupVerificationError('The decrypted backup differs from the dump');
  }
}

function storedObjectOf(manifest: BackupManifest): StoredObject {
  return {
    key: manifest.object.key,
    bytes: manifest.object.bytes,
    sha256: manifest.object.sha256,
    plaintextSha256: manifest.plaintext.sha256,
    plaintextBytes: manifest.plaintext.bytes,
    backupId: manifest.backupId,
    iv: Buffer.from(manifest.encryption.iv, 'base64'),
  };
}

/** Reads `<objectKey>.manifest.json`; null when there is none (then it is not a backup). */
export async function readManifest(
  target: BackupTarget,
  objectKey: string,
): Promise<BackupManifest | null> {
  let text: string | undefined;
  try {
    const read = await target.client.send(
      new GetObjectCommand({
        Bucket: target.location.bucket,
        Key: `${objectKey}${MANIFEST_SUFFIX}`,
      }),
    );
    if ((read.ContentLength ?? 0) > MANIFEST_MAX_BYTES) {
      await read.Body?.transformToWebStream().cancel();
      throw new BackupVerificationError(
        `The manifest of ${objectKey} is ${read.ContentLength} bytes: not a Fieldstation backup's`,
      );
    }
    text = await read.Body?.transformToString();
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return null;
    throw error;
  }
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(text ?? '') as BackupManifest;
  } catch {
    throw new BackupVerificationError(`The manifest of ${objectKey} is not JSON`);
  }
  if (
    manifest?.format !== 'fieldstation-backup/1' ||
    manifest.object?.key !== objectKey ||
    manifest.encryption?.algorithm !== 'aes-256-gcm' ||
    typeof manifest.encryption.iv !== 'string' ||
    Buffer.from(manifest.encryption.iv, 'base64').length !== 12 ||
    typeof manifest.createdAt !== 'string' ||
    typeof manifest.object.sha256 !== 'string' ||
    typeof manifest.plaintext?.sha256 !== 'string' ||
    !isByteCount(manifest.object.bytes) ||
    !isByteCount(manifest.plaintext.bytes)
  ) {
    throw new BackupVerificationError(
      `The manifest of ${objectKey} is not a Fieldstation backup's`,
    );
  }
  return manifest;
}

/** A size a manifest may state: what the reads below hold the object and its plaintext to. */
function isByteCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * Proves a stored backup restorable in one read of the object: every byte checked against its
 * manifest (size, SHA-256, GCM tag, plaintext SHA-256) while the plaintext goes into `sink` (a
 * file on the host) and through the structural check at once, and the promise
 * settles once both have taken every byte and the sink finished. It rejects when anything differs
 * (or the sink fails), having destroyed the sink: the caller deletes what it wrote before using it.
 * A failure of the sink rejects with a {@link BackupSinkError}; the bucket's, as the client threw it.
 */
export async function verifyBackupInto(
  target: BackupTarget,
  manifest: BackupManifest,
  backupKey: Buffer,
  sink: Writable,
  signal?: AbortSignal,
): Promise<void> {
  const check = structuralCheck(manifest.dumpFormat);
  const sinkFinished = asSinkFailure(finished(sink));
  try {
    await Promise.all([
      readVerified(
        target,
        storedObjectOf(manifest),
        backupKey,
        new WriteToBoth(sink, check.input),
        signal,
      ),
      check.done,
      sinkFinished,
    ]);
  } catch (error) {
    sink.destroy();
    // Stops pg_restore (it would wait for input); the error is already the one thrown below.
    check.input.on('error', () => undefined);
    check.input.destroy(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}

/**
 * Applies a retention policy to the backups directly in `scope` (one schedule's folder, see
 * {@link scheduleBackupPrefix}); nothing outside it is touched. Answers the deleted objects' keys.
 */
export async function pruneBackups(
  target: BackupTarget,
  scope: string,
  policy: RetentionPolicy,
): Promise<string[]> {
  const backups = (await listKeys(target, scope))
    .filter((key) => key.endsWith(MANIFEST_SUFFIX) && !key.slice(scope.length).includes('/'))
    .map((manifest) => ({
      key: manifest.slice(0, -MANIFEST_SUFFIX.length),
      createdAt: createdAtOfKey(manifest),
    }))
    .filter((backup): backup is { key: string; createdAt: Date } => backup.createdAt !== null);
  const expired = expiredBackups(backups, policy);
  await deleteKeys(
    target,
    expired.flatMap(({ key }) => [`${key}${MANIFEST_SUFFIX}`, key]),
  );
  return expired.map(({ key }) => key);
}

/** The time in a backup's object name (`2026-12-01T03-00-00-000Z-<id>…`); null if none. */
function createdAtOfKey(key: string): Date | null {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z-/.exec(name);
  if (!match) return null;
  const [, day, hours, minutes, seconds, millis] = match;
  return new Date(`${day}T${hours}:${minutes}:${seconds}.${millis}Z`);
}

/** Every backup (by manifest) under `prefix`, e.g. all platforms' backups under a bucket's prefix. */
export async function listBackups(target: BackupTarget, prefix: string): Promise<BackupManifest[]> {
  const manifests = (await listKeys(target, prefix)).filter((key) => key.endsWith(MANIFEST_SUFFIX));
  const found: BackupManifest[] = [];
  for (const key of manifests) {
    const manifest = await readManifest(target, key.slice(0, -MANIFEST_SUFFIX.length)).catch(
      (error: unknown) => {
        if (error instanceof BackupVerificationError) return null;
        throw error;
      },
    );
    if (manifest) found.push(manifest);
  }
  return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export async function listKeys(target: BackupTarget, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await target.client.send(
      new ListObjectsV2Command({
        Bucket: target.location.bucket,
        Prefix: prefix,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function deleteKeys(target: BackupTarget, keys: string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    const batch = keys.slice(start, start + 1000);
    const answer = await target.client.send(
      new DeleteObjectsCommand({
        Bucket: target.location.bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })) },
      }),
    );
    if (answer.Errors?.length) {
      const first = answer.Errors[0]!;
      throw new Error(`Could not delete ${first.Key}: ${first.Code} ${first.Message}`);
    }
  }
}

/** Passes bytes through, counting them and hashing them with SHA-256. */
class Measure extends Transform {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private digest?: string;

  /**
   * With a limit, a byte past it fails the stream at once: a stored object longer than its
   * manifest says is refused before its excess reaches the sink (a restore writes to the host).
   */
  constructor(
    private readonly limit = Number.POSITIVE_INFINITY,
    private readonly what = 'The stored object',
  ) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null, chunk?: Buffer) => void,
  ): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) {
      done(
        new BackupVerificationError(
          `${this.what} is longer than the ${this.limit} bytes that were sent`,
        ),
      );
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }

  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
  }
}

/**
 * Writes every chunk into two writables at the slower one's pace (each one's `drain`), ends both
 * and finishes once both finished; a failure of either fails it, the first's as a
 * {@link BackupSinkError}.
 */
class WriteToBoth extends Writable {
  constructor(
    private readonly first: Writable,
    private readonly second: Writable,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    Promise.all([
      asSinkFailure(writeWhenReady(this.first, chunk)),
      writeWhenReady(this.second, chunk),
    ]).then(
      () => done(),
      (error: Error) => done(error),
    );
  }

  override _final(done: (error?: Error) => void): void {
    this.first.end();
    this.second.end();
    Promise.all([asSinkFailure(finished(this.first)), finished(this.second)]).then(
      () => done(),
      (error: Error) => done(error),
    );
  }
}

/** Writes a chunk; resolves at once or on `drain`, rejects when the stream fails or closes first. */
function writeWhenReady(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.destroyed) {
    return Promise.reject(stream.errored ?? new Error('The stream closed before the end'));
  }
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', settle);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(stream.errored ?? new Error('The stream closed before the end'));
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', settle);
  });
}

/**
 * The backup's one pass over the dump: gathers the SSH channel's small chunks into pieces of
 * {@link PIECE_BYTES}, then for each hashes the plaintext, hands it to the structural check (at
 * that check's pace), encrypts it and hashes the ciphertext; at the end appends the GCM tag. One
 * stage instead of a chain of them: on a host whose cores the dump itself needs, every pass
 * through the stream machinery per 32 KiB packet slows the dump.
 */
class BackupEncoder extends Transform {
  plainBytes = 0;
  encryptedBytes = 0;
  /** The stage figures: CPU spent hashing and encrypting, time waiting for the check and upload. */
  hashingMs = 0;
  encryptionMs = 0;
  checkWaitedMs = 0;
  uploadWaitedMs = 0;
  firstByteAt?: number;
  lastByteAt?: number;
  private readonly plainHash = createHash('sha256');
  private readonly encryptedHash = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pausedAt?: number;
  private digests?: { plain: string; encrypted: string };

  constructor(
    private readonly cipher: CipherGCM,
    private readonly check: Writable,
  ) {
    super();
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error) => void,
  ): void {
    this.firstByteAt ??= Date.now();
    this.lastByteAt = Date.now();
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < PIECE_BYTES) return done();
    this.encode(done);
  }

  override _flush(done: (error?: Error) => void): void {
    this.encode((error) => {
      if (error) return done(error);
      const began = performance.now();
      const tail = Buffer.concat([this.cipher.final(), this.cipher.getAuthTag()]);
      this.encryptionMs += performance.now() - began;
      this.pushEncrypted(tail);
      this.check.end();
      done();
    });
  }

  /** Downstream asks for more: the time since `push` said "full" was spent waiting for it. */
  override _read(size: number): void {
    if (this.pausedAt !== undefined) {
      this.uploadWaitedMs += Date.now() - this.pausedAt;
      this.pausedAt = undefined;
    }
    super._read(size);
  }

  sha256(): { plain: string; encrypted: string } {
    this.digests ??= {
      plain: this.plainHash.digest('hex'),
      encrypted: this.encryptedHash.digest('hex'),
    };
    return this.digests;
  }

  private encode(done: (error?: Error) => void): void {
    if (this.pendingBytes === 0) return done();
    const piece = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    this.plainBytes += piece.length;
    let began = performance.now();
    this.plainHash.update(piece);
    this.hashingMs += performance.now() - began;
    const waitFrom = Date.now();
    const checked = writeWhenReady(this.check, piece);
    began = performance.now();
    const encrypted = this.cipher.update(piece);
    this.encryptionMs += performance.now() - began;
    this.pushEncrypted(encrypted);
    checked.then(
      () => {
        this.checkWaitedMs += Date.now() - waitFrom;
        done();
      },
      (error: Error) => done(error),
    );
  }

  private pushEncrypted(encrypted: Buffer): void {
    this.encryptedBytes += encrypted.length;
    const began = performance.now();
    this.encryptedHash.update(encrypted);
    this.hashingMs += performance.now() - began;
    if (!this.push(encrypted)) this.pausedAt = Date.now();
  }
}

/** Passes all but the last `size` bytes through; those are kept as `tail` (the GCM tag). */
class HoldBackTail extends Transform {
  tail = Buffer.alloc(0);

  constructor(private readonly size: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const joined = Buffer.concat([this.tail, chunk]);
    const cut = Math.max(joined.length - this.size, 0);
    this.tail = joined.subarray(cut);
    if (cut > 0) this.push(joined.subarray(0, cut));
    done();
  }
}

/** Decrypts; at the end sets the tag that HoldBackTail kept back, so final() authenticates. */
class DecipherUntilTag extends Transform {
  constructor(
    private readonly decipher: DecipherGCM,
    private readonly source: HoldBackTail,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.push(this.decipher.update(chunk));
    done();
  }

  override _flush(done: (error?: Error | null) => void): void {
    try {
      this.decipher.setAuthTag(this.source.tail);
      this.push(this.decipher.final());
      done();
    } catch {
      done(new BackupVerificationError('The backup failed authentication (GCM tag mismatch)'));
    }
  }
}

/**
 * The structural check of a dump as it streams past: PostgreSQL custom format goes through
 * `pg_restore -f /dev/null`, which reads every data block (`--list` reads only the table of
 * contents and passes a dump cut in half); other formats are consumed (their checksums above
 * still hold).
 */
function structuralCheck(dumpFormat: string): { input: Writable; done: Promise<void> } {
  if (dumpFormat !== 'pgdump') {
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    return { input: sink, done: Promise.resolve() };
  }
  const child = spawn('pg_restore', ['--file', '/dev/null'], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString();
  });
  // A pg_restore that stopped early (a broken archive) fails below; the rest is not needed.
  child.stdin.on('error', () => undefined);
  const sink = new Writable({
    // The check may lag a few pieces behind: a busy moment of pg_restore does not stop the dump.
    highWaterMark: 4 * PIECE_BYTES,
    write(chunk: Buffer, _encoding, done) {
      if (child.stdin.destroyed || child.exitCode !== null) return done();
      if (child.stdin.write(chunk)) return done();
      const resume = () => {
        child.stdin.off('drain', resume);
        child.off('close', resume);
        done();
      };
      child.stdin.on('drain', resume);
      child.on('close', resume);
    },
    final(done) {
      child.stdin.end();
      done();
    },
    // The read failed (a storage error, a wrong tag): pg_restore would wait for input forever.
    destroy(error, done) {
      if (error) child.kill();
      done(error);
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve();
      else {
        reject(
          new BackupVerificationError(
            `pg_restore refused the archive (exit ${code}): ${stderr.trim()}`,
          ),
        );
      }
    });
  });
  return { input: sink, done: finished };
}

/** The backup's key when `dataKey` opens it (its owner's account on this install); else null. */
export function openBackupKey(manifest: BackupManifest, dataKey: DataKey): Buffer | null {
  try {
    const key = Buffer.from(
      dataKey.openField(manifest.backupId, 'backup-key', manifest.encryption.sealedKey),
      'base64',
    );
    return key.length === 32 ? key : null;
  } catch {
    return null;
  }
}
