import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkedKey, type FileStore, type StoredFile } from './file-store';

/**
 * The default FileStore: a folder on this machine (under the data dir), folders mode 0700 and
 * files 0600. API and worker must share it, which holds on one machine; multi-node installs
 * mount it or use an object-storage backend.
 */
export class LocalFileStore implements FileStore {
  constructor(private readonly root: string) {}

  async put(key: string, source: Readable): Promise<number> {
    const path = this.path(key);
    // The source may fail while the folder is made: hold its error for the pipeline's caller
    // instead of leaving it unhandled (which would end the process).
    let early: unknown;
    const holdError = (error: unknown) => (early ??= error);
    source.on('error', holdError);
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      if (early !== undefined) throw early;
      const file = createWriteStream(path, { mode: 0o600 });
      await pipeline(source, file);
      return file.bytesWritten;
    } catch (error) {
      await rm(path, { force: true });
      throw early ?? error;
    } finally {
      source.off('error', holdError);
    }
  }

  async move(from: string, to: string): Promise<void> {
    const target = this.path(to);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await rename(this.path(from), target);
  }

  async remove(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  async list(prefix: string): Promise<StoredFile[]> {
    const folder = this.path(prefix);
    const names = await readdir(folder, { recursive: true }).catch(() => [] as string[]);
    const files = await Promise.all(
      names.map(async (name) => {
        const info = await stat(join(folder, name)).catch(() => undefined);
        if (!info?.isFile()) return undefined;
        const key = relative(this.root, join(folder, name)).split(sep).join('/');
        return { key, bytes: info.size };
      }),
    );
    return files.filter((file): file is StoredFile => file !== undefined);
  }

  read(key: string): Promise<Readable> {
    return new Promise((resolve, reject) => {
      const stream = createReadStream(this.path(key));
      stream.once('open', () => resolve(stream));
      stream.once('error', reject);
    });
  }

  async withLocalCopy<T>(key: string, work: (path: string) => Promise<T>): Promise<T> {
    return work(this.path(key));
  }

  private path(key: string): string {
    return join(this.root, ...checkedKey(key).split('/'));
  }
}
