import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SAMPLE_TARGETS, sampleRequest, type SampleTarget } from '../samples';
import { StackSynthesizer } from '../stack-synthesizer';

const USAGE =
  'usage: npm run synth -- --target aws|gcp|openstack --kind space|platform --out DIR [--backend local|pg]';

/** Writes an example stack from the sample inputs, for people reading what gets applied. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      kind: { type: 'string', default: 'platform' },
      out: { type: 'string' },
      backend: { type: 'string', default: 'local' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const target = values.target as SampleTarget;
  const kind = values.kind;
  const backend = values.backend;
  if (
    !SAMPLE_TARGETS.includes(target) ||
    (kind !== 'space' && kind !== 'platform') ||
    !values.out
  ) {
    throw new Error(USAGE);
  }
  if (backend !== 'local' && backend !== 'pg') throw new Error(USAGE);
  const { configFile } = await new StackSynthesizer({ stateBackend: backend }).synthesize(
    sampleRequest(target, kind),
    resolve(values.out),
  );
  console.log(`Synthesized the sample ${target} ${kind} stack to ${configFile}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
