import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceUrl } from '../../test/test-env';
import { testS3, testS3Client } from '../../test/test-s3';
import { DataKey } from '../crypto/data-key';
import {
  BackupSinkError,
  type BackupTarget,
  BackupVerificationError,
  listKeys,
  platformBackupPrefix,
  openBackupKey,
  pruneBackups,
  readManifest,
  restoreStreamFailure,
  verifyBackupInto,
  writeBackup,
} from './backup-archive';

const MARKER = `reading-marker-${randomBytes(4).toString('hex')}`;

/** `pg_dump -Fc` of a database, streamed from its stdout as the host's dump would be. */
function pgDump(url: string): Readable {
  const child = spawn('pg_dump', ['--format=custom', '--dbname', url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return child.stdout;
}

describe('backup archive (s3rver, the test PostgreSQL, pg_restore)', () => {
  const admin = new Client({ connectionString: serviceUrl('FS_TEST_POSTGRES_URL') });
  const database = `fs_backup_${randomBytes(4).toString('hex')}`;
  let databaseUrl: string;
  const dataKey = DataKey.generate();
  const target = (prefix = `backups-${randomUUID()}/`, bucket = testS3().bucket): BackupTarget => ({
    client: testS3Client(),
    location: { bucket, prefix },
  });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(serviceUrl('FS_TEST_POSTGRES_URL'));
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    await db.query('CREATE TABLE readings (at timestamptz, device text, value double precision)');
    await db.query(
      `INSERT INTO readings SELECT now() - i * interval '1 second', $1, i FROM generate_series(1, 20000) i`,
      [MARKER],
    );
    await db.end();
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.end();
  });

  it('streams a pg_dump encrypted into the bucket, verifies it read back, writes the manifest', async () => {
    const to = target();
    const lines: string[] = [];
    const manifest = await writeBackup(to, pgDump(databaseUrl), {
      platformId: 'p1',
      dumpFormat: 'pgdump',
      dataKey,
      log: (line) => lines.push(line),
    });
    expect(manifest.plaintext.bytes).toBeGreaterThan(1000);
    expect(manifest.object.bytes).toBe(manifest.plaintext.bytes + 16);
    expect(lines.join('\n')).toMatch(/archive structure verified/);

    const keys = await listKeys(to, platformBackupPrefix(to.location, 'p1'));
    expect(keys.sort()).toEqual([manifest.object.key, `${manifest.object.key}.manifest.json`]);
    const stored = await to.client.send(
      new GetObjectCommand({ Bucket: to.location.bucket, Key: manifest.object.key }),
    );
    const bytes = Buffer.from(await stored.Body!.transformToByteArray());
    expect(bytes.subarray(0, 5).toString()).not.toBe('PGDMP');
    expect(bytes.includes(Buffer.from(MARKER))).toBe(false);
    const manifestRead = await to.client.send(
      new GetObjectCommand({
        Bucket: to.location.bucket,
        Key: `${manifest.object.key}.manifest.json`,
      }),
    );
    const stored_manifest = JSON.parse(await manifestRead.Body!.transformToString());
    expect(stored_manifest).toEqual(manifest);
    // The per-backup key opens only with the owner's data key.
    expect(
      dataKey.openField(manifest.backupId, 'backup-key', manifest.encryption.sealedKey),
    ).toHaveLength(44);
    expect(() =>
      DataKey.generate().openField(manifest.backupId, 'backup-key', manifest.encryption.sealedKey),
    ).toThrow();
  });

  it('refuses an archive pg_restore cannot read, also a real dump cut in half, and leaves nothing in the bucket', async () => {
    const to = target();
    await expect(
      writeBackup(to, Readable.from([Buffer.from('not a dump at all')]), {
        platformId: 'p2',
        dumpFormat: 'pgdump',
        dataKey,
      }),
    ).rejects.toThrow(BackupVerificationError);
    expect(await listKeys(to, to.location.prefix)).toEqual([]);

    // Review: a real dump cut in half still has its table of contents (`--list` passed it).
    const whole = Buffer.concat(await pgDump(databaseUrl).toArray());
    const half = whole.subarray(0, Math.floor(whole.length / 2));
    await expect(
      writeBackup(to, Readable.from([half]), { platformId: 'p2', dumpFormat: 'pgdump', dataKey }),
    ).rejects.toThrow(BackupVerificationError);
    expect(await listKeys(to, to.location.prefix)).toEqual([]);
  });

  it('fails on a storage error (missing bucket) and on a dump that breaks off', async () => {
    await expect(
      writeBackup(target(undefined, 'no-such-bucket'), pgDump(databaseUrl), {
        platformId: 'p3',
        dumpFormat: 'pgdump',
        dataKey,
      }),
    ).rejects.toThrow(/bucket/i);

    const to = target();
    const broken = new Readable({ read() {} });
    broken.push(randomBytes(1024));
    setImmediate(() => broken.destroy(new Error('ssh stream closed')));
    await expect(
      writeBackup(to, broken, { platformId: 'p3', dumpFormat: 'raw', dataKey }),
    ).rejects.toThrow(/ssh stream closed/);
    expect(await listKeys(to, to.location.prefix)).toEqual([]);
  });

  it('reads a stored backup once into a sink while verifying it (checksums, tag, pg_restore); a flipped byte or a failing sink rejects and destroys the sink', async () => {
    const to = target();
    const dump = Buffer.concat(await pgDump(databaseUrl).toArray());
    const manifest = await writeBackup(to, Readable.from([dump]), {
      platformId: 'p6',
      dumpFormat: 'pgdump',
      dataKey,
    });
    const key = openBackupKey(manifest, dataKey)!;
    /** A sink that keeps what it was given, slowly (each write waits a tick: back-pressure). */
    const collecting = () => {
      const chunks: Buffer[] = [];
      const sink = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          setImmediate(done);
        },
      });
      return { sink, bytes: () => Buffer.concat(chunks) };
    };

    const good = collecting();
    await verifyBackupInto(to, manifest, key, good.sink);
    expect(good.sink.writableFinished).toBe(true);
    expect(good.bytes().equals(dump)).toBe(true);

    // One byte flipped in the stored object: every byte reaches the sink, then the promise
    // rejects and the sink is destroyed (the caller deletes what it wrote).
    const stored = Buffer.from(
      await (
        await to.client.send(
          new GetObjectCommand({ Bucket: to.location.bucket, Key: manifest.object.key }),
        )
      ).Body!.transformToByteArray(),
    );
    stored[Math.floor(stored.length / 2)] ^= 0x01;
    await to.client.send(
      new PutObjectCommand({ Bucket: to.location.bucket, Key: manifest.object.key, Body: stored }),
    );
    const corrupt = collecting();
    await expect(verifyBackupInto(to, manifest, key, corrupt.sink)).rejects.toThrow(
      BackupVerificationError,
    );
    expect(corrupt.sink.destroyed).toBe(true);

    // An object longer than the manifest says (1 MiB appended): refused at the first byte past
    // the stored size, so the excess never reaches the sink (a restore writes it to the host).
    await to.client.send(
      new PutObjectCommand({
        Bucket: to.location.bucket,
        Key: manifest.object.key,
        Body: Buffer.concat([stored, Buffer.alloc(2 ** 20)]),
      }),
    );
    const longer = collecting();
    await expect(verifyBackupInto(to, manifest, key, longer.sink)).rejects.toThrow(
      'longer than the',
    );
    expect(longer.bytes().length).toBeLessThanOrEqual(manifest.object.bytes);

    // A sink that fails part-way (the host's disk, the SSH channel) fails the read.
    const failing = new PassThrough();
    failing.resume();
    setImmediate(() => failing.destroy(new Error('sftp write failed')));
    await expect(verifyBackupInto(to, manifest, key, failing)).rejects.toThrow(
      new BackupSinkError(new Error('sftp write failed')),
    );
  });

  it('names the side that failed a restore stream: the host write or the bucket read', async () => {
    const to = target();
    const manifest = await writeBackup(to, Readable.from([randomBytes(3 * 2 ** 20)]), {
      platformId: 'p7',
      dumpFormat: 'raw',
      dataKey,
    });
    const key = openBackupKey(manifest, dataKey)!;

    // The host's disk fills after 1 MiB: the write side failed, whatever its message says.
    let written = 0;
    const full = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        if (written <= 2 ** 20) return done();
        done(
          Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
        );
      },
    });
    const hostFailure = await verifyBackupInto(to, manifest, key, full).catch((error) => error);
    expect(hostFailure).toBeInstanceOf(BackupSinkError);
    expect(restoreStreamFailure(hostFailure).message).toBe(
      "Writing the backup to the host failed: ENOSPC: no space left on device, write (a full disk or a permission in the platform's dumps folder is the usual cause)",
    );
    expect(full.destroyed).toBe(true);

    // The object is gone from the bucket: the read side failed; the sink took nothing.
    await to.client.send(
      new DeleteObjectCommand({ Bucket: to.location.bucket, Key: manifest.object.key }),
    );
    let received = 0;
    const healthy = new Writable({
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done();
      },
    });
    const bucketFailure = await verifyBackupInto(to, manifest, key, healthy).catch(
      (error) => error,
    );
    expect(bucketFailure).not.toBeInstanceOf(BackupSinkError);
    expect(restoreStreamFailure(bucketFailure).message).toMatch(
      /^Reading the backup from the bucket failed: NoSuchKey \(HTTP 404\)/,
    );
    expect(received).toBe(0);
    expect(healthy.destroyed).toBe(true);
  });

  it('refuses a manifest that lies about sizes or its IV, and holds the plaintext to the size it states', async () => {
    const to = target();
    const manifest = await writeBackup(to, pgDump(databaseUrl), {
      platformId: 'p-lies',
      dumpFormat: 'pgdump',
      dataKey,
    });
    const key = openBackupKey(manifest, dataKey)!;
    // Each lie under a key of its own: s3rver overwrites a key in place, so reading one just
    // rewritten can see a half-written file.
    const lies: object[] = [
      { object: { ...manifest.object, bytes: undefined } },
      { object: { ...manifest.object, bytes: -1 } },
      { plaintext: { ...manifest.plaintext, bytes: 1e300 } },
      { encryption: { ...manifest.encryption, iv: 'AAAA' } },
      { createdAt: 12 },
    ];
    for (const [index, lie] of lies.entries()) {
      const key = `${manifest.object.key}-lie-${index}`;
      const body = { ...manifest, ...lie } as typeof manifest;
      body.object = { ...body.object, key };
      await to.client.send(
        new PutObjectCommand({
          Bucket: to.location.bucket,
          Key: `${key}.manifest.json`,
          Body: JSON.stringify(body),
        }),
      );
      await expect(readManifest(to, key)).rejects.toThrow(
        `The manifest of ${key} is not a Fieldstation backup's`,
      );
    }
    const large = `${manifest.object.key}-large`;
    await to.client.send(
      new PutObjectCommand({
        Bucket: to.location.bucket,
        Key: `${large}.manifest.json`,
        Body: 'x'.repeat(70 * 1024),
      }),
    );
    await expect(readManifest(to, large)).rejects.toThrow(/is 71680 bytes/);

    // A plaintext size smaller than the truth: the read stops at the first byte past it, before
    // the rest reaches the sink (a file on the host).
    const short = { ...manifest, plaintext: { ...manifest.plaintext, bytes: 1000 } };
    let written = 0;
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        written += chunk.length;
        done();
      },
    });
    await expect(verifyBackupInto(to, short, key, sink)).rejects.toThrow(
      'The decrypted backup is longer than the 1000 bytes that were sent',
    );
    expect(written).toBeLessThanOrEqual(1000);
  });

  it('keeps the newest N backups of a platform', async () => {
    const to = target();
    const made = [];
    for (let day = 1; day <= 3; day += 1) {
      made.push(
        await writeBackup(to, Readable.from([randomBytes(100)]), {
          platformId: 'p4',
          dumpFormat: 'raw',
          dataKey,
          now: new Date(`2026-12-0${day}T03:00:00Z`),
        }),
      );
    }
    const pruned = await pruneBackups(to, platformBackupPrefix(to.location, 'p4'), {
      keepLast: 2,
      keepDaily: 0,
      keepWeekly: 0,
    });
    expect(pruned).toEqual([made[0]!.object.key]);
    const left = await listKeys(to, to.location.prefix);
    expect(left.filter((key) => !key.endsWith('.json')).sort()).toEqual(
      [made[1]!.object.key, made[2]!.object.key].sort(),
    );
  });

  it('streams 192 MiB through without holding it (multipart)', async () => {
    const to = target();
    const total = 192 * 1024 * 1024;
    let sent = 0;
    const chunk = randomBytes(1024 * 1024);
    const source = new Readable({
      read() {
        if (sent >= total) return this.push(null);
        sent += chunk.length;
        this.push(chunk);
      },
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = Date.now();
    const manifest = await writeBackup(to, source, {
      platformId: 'p5',
      dumpFormat: 'raw',
      dataKey,
    });
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `backup of ${total / 2 ** 20} MiB: ${(total / 2 ** 20 / seconds).toFixed(1)} MiB/s incl. read-back, rss +${((peak - before) / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(manifest.plaintext.bytes).toBe(total);
    // Held whole, the dump alone would add 192 MiB; streamed, the growth is the multipart queue
    // plus garbage not yet collected, which a busy machine lets reach ~100 MiB. The figure for the
    // issue's target comes from `npm run bench:backup`, not from this test.
    expect(peak - before).toBeLessThan(total * 0.75);
  });
});
