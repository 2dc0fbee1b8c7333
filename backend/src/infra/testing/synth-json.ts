import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  StackSynthesizer,
  type StackSynthesizerOptions,
  type StackRequest,
} from '../stack-synthesizer';

/** The parts of a synthesized `cdk.tf.json` the structure tests look at. */
export interface TerraformJson {
  terraform: {
    backend: Record<string, Record<string, unknown>>;
    required_providers: Record<string, unknown>;
  };
  provider: Record<string, Record<string, unknown>[]>;
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  locals?: Record<string, unknown>;
  output: Record<string, { value: string; sensitive?: boolean }>;
}

/** Test support: synthesizes through the real synthesizer into a temp dir and parses the result. */
export async function synthJson(
  request: StackRequest,
  options?: StackSynthesizerOptions,
): Promise<{ json: TerraformJson; text: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'fs-synth-'));
  try {
    const { configFile } = await new StackSynthesizer(options).synthesize(request, dir);
    const text = await readFile(configFile, 'utf8');
    return { json: JSON.parse(text) as TerraformJson, text };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The single resource of a type (the stacks create one of each unless stated otherwise). */
export function only(
  json: TerraformJson,
  type: string,
): { name: string; config: Record<string, unknown> } {
  const entries = Object.entries(json.resource[type] ?? {});
  if (entries.length !== 1) throw new Error(`expected one ${type}, found ${entries.length}`);
  const [name, config] = entries[0]!;
  return { name, config };
}

/** `${type.name}` reference prefix, as Terraform expressions in the JSON use it. */
export function ref(type: string, name: string, attribute: string): string {
  return `\${${type}.${name}.${attribute}}`;
}
