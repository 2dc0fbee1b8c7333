import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// `npm run bench:backup` (scripts/bench-backup.mjs): the backup throughput bench only, never part of `npm test`.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['bench/backup.bench.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 3_600_000,
    pool: 'forks',
  },
});
