import { loadConfig } from '../../config/app-config';
import { backupObjectKey, backupS3Client, parseS3Url } from '../backup-location';
import { backupInstall, type BackupDestination } from '../install-backup';
import { readPassphrase } from '../passphrase';

const USAGE =
  'usage: npm run backup -- --to FILE|s3://bucket/prefix [--include-server-key]\n' +
  'The passphrase comes from FIELDSTATION_BACKUP_PASSPHRASE, the terminal, or one line on stdin.';

// `npm run backup -- --to …`: one encrypted archive of this install (install-backup/README.md).
async function main(argv: string[]): Promise<string> {
  const toIndex = argv.indexOf('--to');
  const to = toIndex >= 0 ? argv[toIndex + 1] : undefined;
  const known = new Set(['--to', '--include-server-key', to]);
  const unknown = argv.filter((arg) => !known.has(arg));
  if (!to || unknown.length > 0) throw new Error(USAGE);
  const includeServerKey = argv.includes('--include-server-key');

  process.umask(0o077);
  const config = loadConfig(process.env);
  const now = new Date();
  const s3 = parseS3Url(to);
  const destination: BackupDestination = s3
    ? {
        type: 's3',
        client: backupS3Client(process.env),
        bucket: s3.bucket,
        key: backupObjectKey(s3.key, now),
      }
    : { type: 'file', path: to };
  const passphrase = await readPassphrase(process.env, { confirm: true });
  const manifest = await backupInstall(config, destination, { passphrase, includeServerKey, now });
  const where =
    destination.type === 's3' ? `s3://${destination.bucket}/${destination.key}` : destination.path;
  const stacks = manifest.files.filter((file) => file.path.startsWith('stacks/')).length;
  return (
    `Backed up to ${where}: the ${manifest.database.type} database, ` +
    `${stacks} stack file${stacks === 1 ? '' : 's'}` +
    (manifest.serverKey ? ' and the server key' : ' (no server key)')
  );
}

main(process.argv.slice(2)).then(
  (message) => console.log(message),
  (error: unknown) => {
    console.error(`backup: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
