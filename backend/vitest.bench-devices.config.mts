import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// `npm run bench:devices`: the device-change latency bench only, never part of `npm test`.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['bench/devices.bench.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
