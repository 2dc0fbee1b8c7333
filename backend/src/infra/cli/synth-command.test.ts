import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSynthCommand } from './synth-command';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-synth-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('npm run synth', () => {
  it('writes the sample stack for every target and kind that exists', async () => {
    const cases = [
      ['aws', 'space', 'aws_vpc'],
      ['aws', 'platform', 'aws_instance'],
      ['gcp', 'platform', 'google_compute_instance'],
      ['openstack', 'space', 'openstack_networking_router_v2'],
      ['openstack', 'platform', 'openstack_compute_instance_v2'],
    ];
    for (const [target, kind, resource] of cases) {
      const out = join(root, `${target}-${kind}`);
      const message = await runSynthCommand(['--target', target!, '--kind', kind!, '--out', out]);
      expect(message).toBe(
        `Synthesized the sample ${target} ${kind} stack to ${join(out, 'cdk.tf.json')}`,
      );
      const json = JSON.parse(await readFile(join(out, 'cdk.tf.json'), 'utf8')) as {
        resource: object;
      };
      expect(Object.keys(json.resource)).toContain(resource);
    }
  });

  it('explains its usage on bad arguments', async () => {
    await expect(runSynthCommand(['--target', 'azure', '--out', root])).rejects.toThrow(
      /^usage: npm run synth/,
    );
    await expect(runSynthCommand(['--target', 'aws'])).rejects.toThrow(/^usage/);
    await expect(
      runSynthCommand(['--target', 'gcp', '--kind', 'space', '--out', root]),
    ).rejects.toThrow(/GCP has no space/);
  });
});
