import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { loadConfig } from '../../config/app-config';
import { backupS3Client, parseS3Url } from '../backup-location';
import { restoreInstall } from '../install-restore';
import { readPassphrase } from '../passphrase';

const USAGE =
  'usage: npm run restore-backup -- FILE|s3://bucket/key   (Fieldstation stopped, fresh data dir)\n' +
  'The passphrase comes from FIELDSTATION_BACKUP_PASSPHRASE, the terminal, or one line on stdin.';

// `npm run restore-backup -- FILE`: a fresh install back to a backup's state.
async function main(argv: string[]): Promise<string> {
  if (argv.length !== 1 || argv[0]!.startsWith('-')) throw new Error(USAGE);
  const source = argv[0]!;
  process.umask(0o077);
  const config = loadConfig(process.env);
  const passphrase = await readPassphrase(process.env, { confirm: false });
  const s3 = parseS3Url(source);
  let archive: Readable;
  if (s3) {
    const answer = await backupS3Client(process.env).send(
      new GetObjectCommand({ Bucket: s3.bucket, Key: s3.key }),
    );
    archive = answer.Body as Readable;
  } else {
    archive = createReadStream(source);
  }
  const { manifest, notes } = await restoreInstall(config, archive, passphrase);
  return [
    `Restored the backup of ${manifest.createdAt} into ${config.dataDir}; start Fieldstation now.`,
    ...notes,
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (message) => console.log(message),
  (error: unknown) => {
    console.error(`restore-backup: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
