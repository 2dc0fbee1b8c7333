import { mkdtempSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalFileStore } from './local-file-store';

describe('LocalFileStore', () => {
  const root = () => mkdtempSync(join(tmpdir(), 'fs-file-store-'));

  it('stores, lists, moves and removes files under its root, private to the server', async () => {
    const dir = root();
    const store = new LocalFileStore(dir);
    expect(await store.put('uploads/u1/a.partial', Readable.from([Buffer.from('dump')]))).toBe(4);
    await store.move('uploads/u1/a.partial', 'uploads/u1/a.restore');
    expect(await store.list('uploads')).toEqual([{ key: 'uploads/u1/a.restore', bytes: 4 }]);
    expect(await readFile(join(dir, 'uploads/u1/a.restore'), 'utf8')).toBe('dump');
    expect((await stat(join(dir, 'uploads/u1/a.restore'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'uploads/u1'))).mode & 0o777).toBe(0o700);
    await store.remove('uploads/u1/a.restore');
    await store.remove('uploads/u1/a.restore');
    expect(await store.list('uploads')).toEqual([]);
    expect(await store.list('nothing-here')).toEqual([]);
  });

  it('leaves nothing behind when the source fails part-way', async () => {
    const store = new LocalFileStore(root());
    const failing = new Readable({ read() {} });
    const written = store.put('uploads/u1/b.partial', failing);
    failing.push(Buffer.from('half'));
    failing.destroy(new Error('too large'));
    await expect(written).rejects.toThrow('too large');
    expect(await store.list('uploads')).toEqual([]);
  });

  it('refuses keys that could leave its root', async () => {
    const store = new LocalFileStore(root());
    for (const key of ['../etc/passwd', 'uploads/../../x', '/abs', 'a//b', 'uploads/./x']) {
      await expect(store.remove(key)).rejects.toThrow('invalid file store key');
    }
  });
});
