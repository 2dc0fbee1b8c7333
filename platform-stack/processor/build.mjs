// Bundles the processor (and the ingest benchmark) into dist/ so the image needs no build step.
import { build } from 'esbuild';

await build({
  entryPoints: {
    main: 'src/main.ts',
    'script-host': 'src/script/script-host.ts',
    'script-worker': 'src/script/script-worker.ts',
    'bench/ingest-bench': 'src/bench/ingest-bench.ts',
  },
  outdir: 'dist',
  // .cjs: the image's /app/package.json is the user's ("type": "module"), which must not turn the bundle into ESM.
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Optional native add-ons of the MongoDB driver that the image does not ship.
  external: [
    'kerberos',
    '@mongodb-js/zstd',
    '@aws-sdk/credential-providers',
    'gcp-metadata',
    'snappy',
    'socks',
    'aws4',
    'mongodb-client-encryption',
    'pg-native',
  ],
});
