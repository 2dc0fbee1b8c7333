import { spawn } from 'node:child_process';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  type DecipherGCM,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { PassThrough, type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { DataKey } from '../crypto/data-key';
import type { S3Location } from '../credentials/s3-storage';

/** What lies beside each backup object in the bucket, as `<object>.manifest.json`. */
export interface BackupManifest {
  format: 'fieldstation-backup/1';
  backupId: string;
  platformId: string;
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

export class BackupVerificationError extends Error {}

/** Where a platform's backups live in the bucket. */
export function platformBackupPrefix(location: S3Location, platformId: string): string {
  return `${location.prefix}platforms/${platformId}/`;
}

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
    dumpFormat: string;
    dataKey: DataKey;
    log?: (line: string) => void;
    now?: Date;
  },
): Promise<BackupManifest> {
  const started = Date.now();
  const backupId = randomUUID();
  const createdAt = options.now ?? new Date();
  const stamp = createdAt.toISOString().replace(/[:.]/g, '-');
  const key = `${platformBackupPrefix(target.location, options.platformId)}${stamp}-${backupId}.${options.dumpFormat}.enc`;
  const backupKey = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', backupKey, iv);
  cipher.setAAD(Buffer.from(`fieldstation-backup:${backupId}`));
  const plain = new Measure();
  const encrypted = new Measure();
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
  const tagged = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      done(null, chunk);
    },
    flush(done) {
      done(null, cipher.getAuthTag());
    },
  });
  try {
    await Promise.all([pipeline(dump, plain, cipher, tagged, encrypted, body), upload.done()]);
  } catch (error) {
    // An upload that failed first leaves the dump paused mid-stream: end it (and its SSH channel).
    dump.destroy();
    body.destroy();
    // lib-storage aborts the multipart upload itself; a finished one is removed here.
    await upload.abort().catch(() => undefined);
    await deleteKeys(target, [key]).catch(() => undefined);
    throw error;
  }
  log(`Uploaded ${encrypted.bytes} bytes (${plain.bytes} before encryption); reading it back`);

  try {
    await verifyObject(target, key, {
      sha256: encrypted.sha256(),
      bytes: encrypted.bytes,
      backupKey,
      iv,
      backupId,
      plaintextSha256: plain.sha256(),
      dumpFormat: options.dumpFormat,
    });
  } catch (error) {
    await deleteKeys(target, [key]).catch(() => undefined);
    throw error;
  }
  log('Read back: checksum, authentication tag and archive structure verified');

  const manifest: BackupManifest = {
    format: 'fieldstation-backup/1',
    backupId,
    platformId: options.platformId,
    dumpFormat: options.dumpFormat,
    createdAt: createdAt.toISOString(),
    object: { key, bytes: encrypted.bytes, sha256: encrypted.sha256() },
    plaintext: { bytes: plain.bytes, sha256: plain.sha256() },
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
        Key: `${key}.manifest.json`,
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
 * Reads a stored backup back and checks it end to end without writing it anywhere: the object's
 * SHA-256 and size, the GCM tag, the plaintext's SHA-256, then the dump's structural check.
 */
async function verifyObject(
  target: BackupTarget,
  key: string,
  expected: {
    sha256: string;
    bytes: number;
    backupKey: Buffer;
    iv: Buffer;
    backupId: string;
    plaintextSha256: string;
    dumpFormat: string;
  },
): Promise<void> {
  const read = await target.client.send(
    new GetObjectCommand({ Bucket: target.location.bucket, Key: key }),
  );
  const stored = new Measure();
  const plain = new Measure();
  const decipher = createDecipheriv('aes-256-gcm', expected.backupKey, expected.iv);
  decipher.setAAD(Buffer.from(`fieldstation-backup:${expected.backupId}`));
  const untag = new HoldBackTail(TAG_BYTES);
  const check = structuralCheck(expected.dumpFormat);
  await pipeline(
    read.Body as Readable,
    stored,
    untag,
    new DecipherUntilTag(decipher, untag),
    plain,
    check.input,
  );
  await check.done;
  if (stored.sha256() !== expected.sha256 || stored.bytes !== expected.bytes) {
    throw new BackupVerificationError(
      `The stored object differs from what was sent: ${stored.bytes} bytes with SHA-256 ${stored.sha256()}, sent ${expected.bytes} bytes with ${expected.sha256}`,
    );
  }
  if (plain.sha256() !== expected.plaintextSha256) {
    throw new BackupVerificationError('The decrypted backup differs from the dump');
  }
}

/** Keeps the newest `keepLast` backups of a platform (by manifest), deletes the rest. */
export async function pruneBackups(
  target: BackupTarget,
  platformId: string,
  keepLast: number,
): Promise<string[]> {
  const keys = await listKeys(target, platformBackupPrefix(target.location, platformId));
  const manifests = keys
    .filter((key) => key.endsWith('.manifest.json'))
    .sort()
    .reverse();
  const expired = manifests.slice(Math.max(keepLast, 1));
  const toDelete = expired.flatMap((manifest) => [
    manifest,
    manifest.slice(0, -'.manifest.json'.length),
  ]);
  await deleteKeys(target, toDelete);
  return expired.map((manifest) => manifest.slice(0, -'.manifest.json'.length));
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

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    this.push(chunk);
    done();
  }

  sha256(): string {
    this.digest ??= this.hash.digest('hex');
    return this.digest;
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
