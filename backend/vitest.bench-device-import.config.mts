import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// `npm run bench:device-import`: the bulk import bench only, never part of `npm test`.
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['bench/device-import.bench.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
