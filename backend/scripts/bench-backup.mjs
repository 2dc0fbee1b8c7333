// `npm run bench:backup [-- --quick]`: bench/backup.bench.ts with a 1 GB database, or 100 MB.
import { spawnSync } from 'node:child_process';

const quick = process.argv.includes('--quick');
const result = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.bench-backup.config.mts'], {
  stdio: 'inherit',
  env: { ...process.env, BENCH_BACKUP_MB: process.env.BENCH_BACKUP_MB ?? (quick ? '100' : '1024') },
});
process.exit(result.status ?? 1);
