import {
  createCipheriv,
  createDecipheriv,
  type DecipherGCM,
  createHash,
  randomBytes,
  scrypt,
  type ScryptOptions,
} from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';

/**
 * One encrypted file holding a whole install (see README.md in this folder):
 *
 *   line 1  `FIELDSTATION-INSTALL-BACKUP/1`
 *   line 2  JSON header: scrypt parameters and salt, the AES-256-GCM IV
 *   then    AES-256-GCM ciphertext of the records, its 16-byte tag last
 *
 * The records: each a 4-byte big-endian length, that many bytes of JSON, then for a file its
 * bytes. The last record is the manifest (every file's size and SHA-256). The key comes from
 * the passphrase (scrypt), and both header lines are authenticated as GCM's AAD, so a changed
 * header, a cut or a flipped byte fails the tag and nothing restored is ever used.
 */
export const ARCHIVE_MAGIC = 'FIELDSTATION-INSTALL-BACKUP/1';
const TAG_BYTES = 16;
const SCRYPT = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 } as const;

export interface ArchiveFile {
  /** Where it lies in the archive (and, restored, under the data dir), `/`-separated. */
  path: string;
  /** The file on this machine to read it from. */
  source: string;
}

export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface InstallManifest {
  format: 'fieldstation-install-backup/1';
  createdAt: string;
  database: { type: 'sqlite' | 'postgres'; path: string };
  serverKey: boolean;
  files: ManifestFile[];
}

interface ArchiveHeader {
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** SHA-256 of the second half of the derived bytes (see deriveKeys). */
  keyCheck: string;
  cipher: 'aes-256-gcm';
  iv: string;
}

export class ArchiveError extends Error {}

/**
 * 64 bytes from the passphrase: the first 32 are the cipher key, the SHA-256 of the last 32 is
 * stored in the header, so a wrong passphrase is named at once (GCM itself only can at the end).
 */
async function deriveKeys(
  passphrase: string,
  salt: Buffer,
  options: ScryptOptions,
): Promise<{ key: Buffer; check: string }> {
  const derived = await new Promise<Buffer>((resolve, reject) =>
    scrypt(passphrase.normalize('NFKC'), salt, 64, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
  const check = createHash('sha256').update(derived.subarray(32)).digest('base64');
  const key = Buffer.from(derived.subarray(0, 32));
  derived.fill(0);
  return { key, check };
}

/** Writes the archive of `files` to `output`; answers the manifest it ends with. */
export async function writeInstallArchive(
  output: Writable,
  files: ArchiveFile[],
  manifest: Omit<InstallManifest, 'files'>,
  passphrase: string,
): Promise<InstallManifest> {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const { key, check } = await deriveKeys(passphrase, salt, SCRYPT);
  const header: ArchiveHeader = {
    kdf: { name: 'scrypt', N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString('base64') },
    keyCheck: check,
    cipher: 'aes-256-gcm',
    iv: iv.toString('base64'),
  };
  const preamble = Buffer.from(`${ARCHIVE_MAGIC}\n${JSON.stringify(header)}\n`);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(preamble);
  key.fill(0);

  const write = async (chunk: Buffer): Promise<void> => {
    if (chunk.length === 0) return;
    if (!output.write(chunk)) await once(output, 'drain');
  };
  const record = (value: object) => {
    const json = Buffer.from(JSON.stringify(value));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(json.length);
    return cipher.update(Buffer.concat([length, json]));
  };

  await write(preamble);
  const listed: ManifestFile[] = [];
  for (const file of files) {
    const { size } = await stat(file.source);
    await write(record({ kind: 'file', path: file.path, bytes: size }));
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of createReadStream(file.source) as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > size) throw new ArchiveError(`${file.path} grew while it was being archived`);
      hash.update(chunk);
      await write(cipher.update(chunk));
    }
    if (bytes !== size) throw new ArchiveError(`${file.path} shrank while it was being archived`);
    listed.push({ path: file.path, bytes, sha256: hash.digest('hex') });
  }
  const complete: InstallManifest = { ...manifest, files: listed };
  await write(record({ kind: 'manifest', manifest: complete }));
  await write(cipher.final());
  await write(cipher.getAuthTag());
  output.end();
  await once(output, 'finish');
  return complete;
}

/**
 * Reads an archive into `targetDir` (files at their archive paths) and answers its manifest.
 * The files are usable only once this resolves: it rejects on a wrong passphrase, a changed or
 * cut archive (GCM tag), or a file whose size or SHA-256 differs from the manifest.
 */
export async function readInstallArchive(
  input: Readable,
  passphrase: string,
  targetDir: string,
): Promise<InstallManifest> {
  const reader = new ByteReader(input as AsyncIterable<Buffer>);
  const magic = (await reader.readLine(64)).toString();
  if (magic !== ARCHIVE_MAGIC) {
    throw new ArchiveError('Not a Fieldstation install backup (wrong first line)');
  }
  const headerLine = await reader.readLine(4096);
  let header: ArchiveHeader;
  try {
    header = JSON.parse(headerLine.toString()) as ArchiveHeader;
  } catch {
    throw new ArchiveError('The backup header is not readable');
  }
  if (header.kdf?.name !== 'scrypt' || header.cipher !== 'aes-256-gcm') {
    throw new ArchiveError('The backup uses an unknown key derivation or cipher');
  }
  const { N, r, p } = header.kdf;
  if (![N, r, p].every(Number.isSafeInteger) || N > 2 ** 20 || r > 16 || p > 4) {
    throw new ArchiveError('The backup asks for scrypt parameters out of range');
  }
  const preamble = Buffer.concat([Buffer.from(`${magic}\n`), headerLine, Buffer.from('\n')]);
  const { key, check } = await deriveKeys(passphrase, Buffer.from(header.kdf.salt, 'base64'), {
    N,
    r,
    p,
    maxmem: SCRYPT.maxmem,
  });
  if (check !== header.keyCheck) {
    key.fill(0);
    throw new ArchiveError('The backup does not open with this passphrase');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(header.iv, 'base64'));
  decipher.setAAD(preamble);
  key.fill(0);

  const plain = new ByteReader(decrypted(reader, decipher));
  const written: ManifestFile[] = [];
  for (;;) {
    const length = (await plain.read(4)).readUInt32BE();
    if (length > 16 * 1024 * 1024) throw new ArchiveError(DAMAGED);
    const entry = parseRecord(await plain.read(length));
    if (entry.kind === 'manifest') {
      await plain.expectEnd();
      checkManifest(entry.manifest, written);
      return entry.manifest;
    }
    const target = join(targetDir, safeRelativePath(entry.path));
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    const out = createWriteStream(target, { mode: 0o600 });
    const hash = createHash('sha256');
    await plain.pipeBytes(entry.bytes, async (chunk) => {
      hash.update(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
    });
    out.end();
    await once(out, 'finish');
    written.push({ path: entry.path, bytes: entry.bytes, sha256: hash.digest('hex') });
  }
}

const DAMAGED = 'The backup is damaged: it was changed or cut';

type ArchiveRecord =
  { kind: 'file'; path: string; bytes: number } | { kind: 'manifest'; manifest: InstallManifest };

/** A record before the tag is checked may be garbage: anything unexpected is damage. */
function parseRecord(json: Buffer): ArchiveRecord {
  let record: ArchiveRecord;
  try {
    record = JSON.parse(json.toString()) as ArchiveRecord;
  } catch {
    throw new ArchiveError(DAMAGED);
  }
  if (record?.kind === 'manifest' && typeof record.manifest === 'object') return record;
  if (record?.kind === 'file' && Number.isSafeInteger(record.bytes) && record.bytes >= 0) {
    return record;
  }
  throw new ArchiveError(DAMAGED);
}

function checkManifest(manifest: InstallManifest, written: ManifestFile[]): void {
  if (manifest.format !== 'fieldstation-install-backup/1') {
    throw new ArchiveError(`Unknown backup format "${String(manifest.format)}"`);
  }
  const expected = JSON.stringify(manifest.files);
  if (expected !== JSON.stringify(written)) {
    throw new ArchiveError('The restored files differ from the backup manifest');
  }
}

/** A path inside the target dir: relative, no `..`, no empty parts. */
function safeRelativePath(path: string): string {
  const normal = normalize(path);
  if (
    typeof path !== 'string' ||
    isAbsolute(path) ||
    normal.split(sep).some((part) => part === '..' || part === '') ||
    normal !== path.split('/').join(sep)
  ) {
    throw new ArchiveError(`The backup holds an unsafe path "${String(path)}"`);
  }
  return normal;
}

/** Decrypts what `reader` has left, keeping the last 16 bytes back as the GCM tag. */
async function* decrypted(reader: ByteReader, decipher: DecipherGCM): AsyncGenerator<Buffer> {
  let tail = Buffer.alloc(0);
  for await (const chunk of reader.rest()) {
    const joined = Buffer.concat([tail, chunk]);
    const cut = Math.max(joined.length - TAG_BYTES, 0);
    tail = joined.subarray(cut);
    if (cut > 0) yield decipher.update(joined.subarray(0, cut));
  }
  if (tail.length !== TAG_BYTES) throw new ArchiveError('The backup is cut short');
  try {
    decipher.setAuthTag(tail);
    yield decipher.final();
  } catch {
    throw new ArchiveError(
      'The backup does not open with this passphrase, or it was changed or cut (authentication failed)',
    );
  }
}

/** Exact-size reads from a stream of chunks. */
class ByteReader {
  private buffered = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  private done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    this.buffered = Buffer.concat([this.buffered, next.value]);
    return true;
  }

  async read(size: number): Promise<Buffer> {
    while (this.buffered.length < size) {
      if (!(await this.fill())) throw new ArchiveError('The backup is cut short');
    }
    const out = this.buffered.subarray(0, size);
    this.buffered = this.buffered.subarray(size);
    return out;
  }

  async readLine(max: number): Promise<Buffer> {
    for (;;) {
      const end = this.buffered.indexOf(0x0a);
      if (end >= 0) {
        const line = this.buffered.subarray(0, end);
        this.buffered = this.buffered.subarray(end + 1);
        return line;
      }
      if (this.buffered.length > max || !(await this.fill())) {
        throw new ArchiveError('Not a Fieldstation install backup');
      }
    }
  }

  /** Hands exactly `size` bytes to `sink`, chunk by chunk. */
  async pipeBytes(size: number, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
    let left = size;
    while (left > 0) {
      if (this.buffered.length === 0 && !(await this.fill())) {
        throw new ArchiveError('The backup is cut short');
      }
      const take = this.buffered.subarray(0, left);
      this.buffered = this.buffered.subarray(take.length);
      left -= take.length;
      await sink(take);
    }
  }

  /** Consumes the rest; the source must end here (its end is where the tag is checked). */
  async expectEnd(): Promise<void> {
    while (await this.fill()) {
      if (this.buffered.length > 0) throw new ArchiveError('The backup has data after its end');
    }
    if (this.buffered.length > 0) throw new ArchiveError('The backup has data after its end');
  }

  async *rest(): AsyncGenerator<Buffer> {
    if (this.buffered.length > 0) yield this.buffered;
    this.buffered = Buffer.alloc(0);
    for (;;) {
      const next = await this.iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
}
