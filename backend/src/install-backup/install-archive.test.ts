import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/test-env';
import { readInstallArchive, writeInstallArchive } from './install-archive';

const PASSPHRASE = 'correct horse battery';

async function archiveOf(files: Record<string, string>): Promise<string> {
  const dir = tempDir();
  const entries = Object.entries(files).map(([path, content], index) => {
    const source = join(dir, `source-${index}`);
    writeFileSync(source, content);
    return { path, source };
  });
  const file = join(dir, 'archive.fsbackup');
  await writeInstallArchive(
    createWriteStream(file),
    entries,
    {
      format: 'fieldstation-install-backup/1',
      createdAt: new Date(0).toISOString(),
      database: { type: 'sqlite', path: 'database/fieldstation.sqlite' },
      serverKey: false,
    },
    PASSPHRASE,
  );
  return file;
}

describe('the install archive', () => {
  it('round-trips files and refuses a flipped byte, a cut archive and an unsafe path', async () => {
    const file = await archiveOf({ 'database/fieldstation.sqlite': 'db', 'stacks/a/state': 'x' });
    const target = tempDir();
    const manifest = await readInstallArchive(createReadStream(file), PASSPHRASE, target);
    expect(manifest.files.map((entry) => entry.path)).toEqual([
      'database/fieldstation.sqlite',
      'stacks/a/state',
    ]);
    expect(readFileSync(join(target, 'stacks/a/state'), 'utf8')).toBe('x');

    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 20]! ^= 1;
    writeFileSync(`${file}.flipped`, flipped);
    await expect(
      readInstallArchive(createReadStream(`${file}.flipped`), PASSPHRASE, tempDir()),
    ).rejects.toThrow(/changed or cut/);
    writeFileSync(`${file}.cut`, bytes.subarray(0, bytes.length - 40));
    await expect(
      readInstallArchive(createReadStream(`${file}.cut`), PASSPHRASE, tempDir()),
    ).rejects.toThrow();

    const escaping = await archiveOf({ '../outside': 'no' });
    const escapeTarget = tempDir();
    await expect(
      readInstallArchive(createReadStream(escaping), PASSPHRASE, join(escapeTarget, 'in')),
    ).rejects.toThrow(/unsafe path/);
    expect(existsSync(join(escapeTarget, 'outside'))).toBe(false);
  });
});
