import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run bench:synth`: cost of importing the infra module and synthesizing a platform stack
 * in a fresh process (the way a worker job starts), against a baseline that imports the
 * provider package roots. Target: < 1 s and < 200 MB per process, Node start-up included.
 */
const TIME_LIMIT_MS = 1000;
const RSS_LIMIT_MB = 200;
const RUNS = 5;

interface Sample {
  wallMs: number;
  importMs: number;
  synthMs: number;
  maxRssMb: number;
}

function measure(mode: 'deep' | 'roots', target: string): Sample {
  const started = process.hrtime.bigint();
  const child = spawnSync(
    process.execPath,
    [join(__dirname, 'bench-synth-child.js'), mode, target],
    {
      encoding: 'utf8',
    },
  );
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`benchmark process failed: ${child.stderr}`);
  return {
    wallMs,
    ...(JSON.parse(child.stdout.trim().split('\n').pop()!) as Omit<Sample, 'wallMs'>),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function summarize(label: string, samples: Sample[]): Sample {
  const result = {
    wallMs: median(samples.map((s) => s.wallMs)),
    importMs: median(samples.map((s) => s.importMs)),
    synthMs: median(samples.map((s) => s.synthMs)),
    maxRssMb: Math.max(...samples.map((s) => s.maxRssMb)),
  };
  console.log(
    `${label.padEnd(42)} ${result.wallMs.toFixed(0).padStart(6)} ms ${result.importMs.toFixed(0).padStart(9)} ms ` +
      `${result.synthMs.toFixed(0).padStart(7)} ms ${result.maxRssMb.toFixed(0).padStart(8)} MB`,
  );
  return result;
}

function main(): void {
  // Other work on the machine inflates the times; the load average puts them in context.
  console.log(
    `Fresh node process per run; median of ${RUNS} runs (peak RSS: maximum), ${process.version}, ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log(
    `${'case'.padEnd(42)} ${'process'.padStart(9)} ${'import'.padStart(12)} ${'synth*'.padStart(10)} ${'peak RSS'.padStart(11)}`,
  );
  const results = ['aws', 'gcp', 'openstack'].map((target) =>
    summarize(
      `infra (deep imports), ${target} platform`,
      Array.from({ length: RUNS }, () => measure('deep', target)),
    ),
  );
  const baseline = summarize('baseline: provider package roots', [measure('roots', 'aws')]);

  const worst = {
    wallMs: Math.max(...results.map((r) => r.wallMs)),
    maxRssMb: Math.max(...results.map((r) => r.maxRssMb)),
  };
  console.log(
    "* synth includes loading cdktf and that cloud's provider bindings: the synthesizer loads them on first use",
  );
  const pass = worst.wallMs < TIME_LIMIT_MS && worst.maxRssMb < RSS_LIMIT_MB;
  console.log(
    `Deep imports vs package roots: ${(baseline.wallMs / worst.wallMs).toFixed(1)}x faster, ` +
      `${(baseline.maxRssMb / worst.maxRssMb).toFixed(1)}x less memory`,
  );
  console.log(
    `${pass ? 'PASS' : 'FAIL'}: worst case ${worst.wallMs.toFixed(0)} ms and ${worst.maxRssMb.toFixed(0)} MB ` +
      `(target < ${TIME_LIMIT_MS} ms and < ${RSS_LIMIT_MB} MB per fresh process, start-up included)`,
  );
  if (!pass) process.exitCode = 1;
}

main();
