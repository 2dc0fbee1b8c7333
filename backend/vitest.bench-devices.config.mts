import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The device benches, never part of `npm test`: `bench:devices` (a fleet on a launched platform)
// and `bench:device-changes` (add/rotate/revoke latency), chosen by BENCH_FILE.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: [process.env.BENCH_FILE ?? 'bench/device-fleet.bench.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 960_000,
    pool: 'forks',
  },
});
