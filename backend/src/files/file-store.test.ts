import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { testS3 } from '../../test/test-s3';
import type { FileStore } from './file-store';
import { LocalFileStore } from './local-file-store';
import { S3FileStore } from './s3-file-store';

/** A store on the test S3 server (s3rver, scripts/services/s3.sh), under a prefix of its own. */
function s3Store(copyLimit?: number): S3FileStore {
  const s3 = testS3();
  return new S3FileStore(
    {
      type: 's3',
      endpoint: s3.endpoint,
      region: s3.region,
      bucket: s3.bucket,
      prefix: `file-store-test/${randomBytes(4).toString('hex')}/`,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
      forcePathStyle: true,
    },
    copyLimit,
  );
}

const localStore = () => new LocalFileStore(mkdtempSync(join(tmpdir(), 'fs-file-store-')));

describe.each([
  ['local data dir', localStore],
  ['S3-compatible bucket', () => s3Store()],
])('FileStore on a %s', (_backend, makeStore: () => FileStore) => {
  it('stores, lists, moves, reads and removes files', async () => {
    const store = makeStore();
    expect(await store.put('uploads/u1/a.partial', Readable.from([Buffer.from('dump')]))).toBe(4);
    await store.move('uploads/u1/a.partial', 'uploads/u1/a.restore');
    expect(await store.list('uploads')).toEqual([{ key: 'uploads/u1/a.restore', bytes: 4 }]);
    expect(await text(await store.read('uploads/u1/a.restore'))).toBe('dump');
    expect(
      await store.withLocalCopy('uploads/u1/a.restore', (path) => readFile(path, 'utf8')),
    ).toBe('dump');
    await store.remove('uploads/u1/a.restore');
    await store.remove('uploads/u1/a.restore');
    expect(await store.list('uploads')).toEqual([]);
    expect(await store.list('nothing-here')).toEqual([]);
  });

  it('leaves nothing behind when the source fails part-way', async () => {
    const store = makeStore();
    const failing = new Readable({ read() {} });
    const written = store.put('uploads/u1/b.partial', failing);
    failing.push(Buffer.alloc(64 * 1024, 1));
    setImmediate(() => failing.destroy(new Error('too large')));
    await expect(written).rejects.toThrow('too large');
    expect(await store.list('uploads')).toEqual([]);
  });

  it('refuses keys that could leave its root', async () => {
    const store = makeStore();
    for (const key of ['../etc/passwd', 'uploads/../../x', '/abs', 'a//b', 'uploads/./x']) {
      await expect(store.remove(key)).rejects.toThrow('invalid file store key');
    }
  });
});

describe('LocalFileStore', () => {
  it('keeps its files private to the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fs-file-store-'));
    await new LocalFileStore(dir).put('uploads/u1/a.restore', Readable.from([Buffer.from('x')]));
    expect((await stat(join(dir, 'uploads/u1/a.restore'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'uploads/u1'))).mode & 0o777).toBe(0o700);
  });
});

describe('S3FileStore', () => {
  it('streams a multipart upload and moves a file larger than one copy request by streaming it', async () => {
    // 12 MiB: three multipart parts of 5 MiB; a copy limit of 1 KiB takes the streaming path.
    const store = s3Store(1024);
    const content = randomBytes(12 * 1024 * 1024);
    expect(await store.put('uploads/u2/big.partial', Readable.from([content]))).toBe(
      content.length,
    );
    await store.move('uploads/u2/big.partial', 'uploads/u2/big.restore');
    expect(await store.list('uploads/u2')).toEqual([
      { key: 'uploads/u2/big.restore', bytes: content.length },
    ]);
    const copy = await store.withLocalCopy('uploads/u2/big.restore', (path) => readFile(path));
    expect(copy.equals(content)).toBe(true);
    await store.remove('uploads/u2/big.restore');
  });
});
