import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';

/**
 * `npm run bench:synth`: cost of importing the infra module and synthesizing a platform stack
 * in a fresh process (the way a worker job starts), against a baseline that imports the
 * provider package roots. Target: < 1 s and < 200 MB per process, Node start-up included.
 * Time is judged on CPU time, which other work on a shared machine does not inflate; wall
 * time is printed next to it with the load average.
 */
const TIME_LIMIT_MS = 1000;
const RSS_LIMIT_MB = 200;
const RUNS = 5;

interface Sample {
  wallMs: number;
  cpuMs: number;
  importMs: number;
  synthMs: number;
  maxRssMb: number;
}

function measure(mode: 'deep' | 'roots', target: string): Sample {
  const started = process.hrtime.bigint();
  const child = spawnSync(
    process.execPath,
    [join(__dirname, 'bench-synth-child.js'), mode, target],
    { encoding: 'utf8' },
  );
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.status !== 0) throw new Error(`benchmark process failed: ${child.stderr}`);
  const line = child.stdout.trim().split('\n').pop()!;
  return { wallMs, ...(JSON.parse(line) as Omit<Sample, 'wallMs'>) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const COLUMNS: [keyof Sample, string][] = [
  ['cpuMs', 'CPU'],
  ['wallMs', 'wall'],
  ['importMs', 'import'],
  ['synthMs', 'synth*'],
  ['maxRssMb', 'peak RSS'],
];

function row(label: string, cells: string[]): void {
  console.log(`${label.padEnd(42)}${cells.map((c) => c.padStart(11)).join('')}`);
}

function summarize(label: string, samples: Sample[]): Sample {
  const result: Sample = {
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(samples.map((s) => s.cpuMs)),
    importMs: median(samples.map((s) => s.importMs)),
    synthMs: median(samples.map((s) => s.synthMs)),
    maxRssMb: Math.max(...samples.map((s) => s.maxRssMb)),
  };
  row(
    label,
    COLUMNS.map(([key]) => `${result[key].toFixed(0)} ${key === 'maxRssMb' ? 'MB' : 'ms'}`),
  );
  return result;
}

function main(): void {
  console.log(
    `Fresh node process per run; median of ${RUNS} runs (peak RSS: maximum); ${process.version}; ` +
      `load average ${loadavg()[0]!.toFixed(1)}`,
  );
  row(
    'case',
    COLUMNS.map(([, title]) => title),
  );
  const results = ['aws', 'gcp', 'openstack'].map((target) =>
    summarize(
      `infra (deep imports), ${target} platform`,
      Array.from({ length: RUNS }, () => measure('deep', target)),
    ),
  );
  const baseline = summarize('baseline: provider package roots', [measure('roots', 'aws')]);
  console.log(
    "* synth includes loading cdktf and that cloud's provider bindings: the synthesizer loads them on first use",
  );

  const worst = (key: keyof Sample) => Math.max(...results.map((r) => r[key]));
  console.log(
    `Deep imports vs package roots: ${(baseline.cpuMs / worst('cpuMs')).toFixed(1)}x less CPU time, ` +
      `${(baseline.maxRssMb / worst('maxRssMb')).toFixed(1)}x less memory`,
  );
  const pass = worst('cpuMs') < TIME_LIMIT_MS && worst('maxRssMb') < RSS_LIMIT_MB;
  console.log(
    `${pass ? 'PASS' : 'FAIL'}: worst case ${worst('cpuMs').toFixed(0)} ms CPU and ` +
      `${worst('maxRssMb').toFixed(0)} MB (target < ${TIME_LIMIT_MS} ms and < ${RSS_LIMIT_MB} MB ` +
      `per fresh process, start-up included); worst wall time ${worst('wallMs').toFixed(0)} ms ` +
      `${worst('wallMs') < TIME_LIMIT_MS ? 'also within' : 'over'} the target at this load`,
  );
  if (!pass) process.exitCode = 1;
}

main();
