import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One measurement in a fresh process (started by bench-synth): import the infra module,
 * synthesize one platform stack, print timings and peak RSS as one JSON line.
 * `roots` first imports the provider package roots, the cost DESIGN §6 warns about.
 */
async function main(): Promise<void> {
  const [mode, target] = process.argv.slice(2) as ['deep' | 'roots', 'aws' | 'gcp' | 'openstack'];
  const started = process.hrtime.bigint();
  if (mode === 'roots') {
    await import('@cdktf/provider-aws');
    await import('@cdktf/provider-google');
  }
  const infra = await import('../index');
  const { sampleRequest } = await import('../samples');
  const imported = process.hrtime.bigint();
  const dir = await mkdtemp(join(tmpdir(), 'fs-bench-'));
  try {
    await new infra.StackSynthesizer().synthesize(sampleRequest(target, 'platform'), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const done = process.hrtime.bigint();
  const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6;
  const usage = process.resourceUsage();
  console.log(
    JSON.stringify({
      importMs: ms(started, imported),
      synthMs: ms(imported, done),
      // CPU time of the whole process, Node start-up included.
      cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
      maxRssMb: usage.maxRSS / 1024,
    }),
  );
}

void main();
