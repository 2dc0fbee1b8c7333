// `npm run bench:devices [-- --quick]`: bench/device-fleet.bench.ts with 1,000 devices, or 200.
import { spawnSync } from 'node:child_process';

const quick = process.argv.includes('--quick');
const result = spawnSync('npx', ['vitest', 'run', '--config', 'vitest.bench-devices.config.mts'], {
  stdio: 'inherit',
  env: { ...process.env, BENCH_QUICK: quick ? '1' : '0' },
});
process.exit(result.status ?? 1);
