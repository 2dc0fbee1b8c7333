import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SAMPLE_TARGETS, sampleRequest, type SampleTarget } from '../samples';
import { StackSynthesizer } from '../stack-synthesizer';

export const SYNTH_USAGE =
  'usage: npm run synth -- --target aws|gcp|openstack --kind space|platform --out DIR [--backend local|pg]';

/** Writes the sample stack for a target and kind; returns the line to print. */
export async function runSynthCommand(args: string[]): Promise<string> {
  const { values } = parseArgs({
    args,
    options: {
      target: { type: 'string' },
      kind: { type: 'string', default: 'platform' },
      out: { type: 'string' },
      backend: { type: 'string', default: 'local' },
    },
  });
  const target = values.target as SampleTarget;
  const { kind, backend, out } = values;
  if (
    !SAMPLE_TARGETS.includes(target) ||
    (kind !== 'space' && kind !== 'platform') ||
    (backend !== 'local' && backend !== 'pg') ||
    !out
  ) {
    throw new Error(SYNTH_USAGE);
  }
  const { configFile } = await new StackSynthesizer({ stateBackend: backend }).synthesize(
    sampleRequest(target, kind),
    resolve(out),
  );
  return `Synthesized the sample ${target} ${kind} stack to ${configFile}`;
}
