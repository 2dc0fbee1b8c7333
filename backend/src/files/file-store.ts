import type { Readable } from 'node:stream';

/**
 * Where the server keeps files it receives or produces (restore uploads today; dumps and
 * backups later): one small seam so the local-dir backend can be swapped for an S3-compatible
 * one without touching the features (DESIGN §11 "File store"). Keys are `/`-separated relative
 * names such as `uploads/<userId>/<deploymentId>.restore`; features build them, never from
 * user-chosen strings.
 */
export interface FileStore {
  /**
   * Streams `source` into `key` and resolves with the bytes written. On any error (including
   * one the source raises, such as a size limit) nothing is left under `key`.
   */
  put(key: string, source: Readable): Promise<number>;
  /** Renames a stored file; the target is replaced. */
  move(from: string, to: string): Promise<void>;
  /** Deletes a file; a missing one is not an error. */
  remove(key: string): Promise<void>;
  /** Files under a folder-like prefix (recursively), with their sizes; none when it is absent. */
  list(prefix: string): Promise<StoredFile[]>;
  /** A stream of the file's bytes. */
  read(key: string): Promise<Readable>;
  /**
   * A path on this machine holding the file while `work` runs (a tool such as Ansible copies it
   * from there): the file itself locally, a temporary download for a remote store.
   */
  withLocalCopy<T>(key: string, work: (path: string) => Promise<T>): Promise<T>;
}

export interface StoredFile {
  key: string;
  bytes: number;
}

const SAFE_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Keys are checked by every backend, so no key reaches outside its root (no `..`, no `/x`). */
export function checkedKey(key: string): string {
  if (!SAFE_KEY.test(key) || key.split('/').some((part) => part === '..' || part === '.')) {
    throw new Error(`invalid file store key "${key}"`);
  }
  return key;
}

/** The Nest injection token of the configured FileStore. */
export const FILE_STORE = Symbol('FILE_STORE');
