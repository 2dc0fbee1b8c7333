import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/app-config';
import { checkLaunchTools, launchTools } from './launch-preflight';

/** Where the real tools live on this machine (the test suite installs them). */
function whereIs(binary: string): string {
  return execFileSync('sh', ['-c', 'command -v "$1"', 'sh', binary], { encoding: 'utf8' }).trim();
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-preflight-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * A PATH holding only the given real tools (symlinked), plus `python3` and `sh` for
 * ansible-playbook's own shebang, so hiding one tool hides exactly that one.
 */
async function pathWith(name: string, tools: string[]): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir);
  for (const tool of [...tools, 'python3', 'sh']) await symlink(whereIs(tool), join(dir, tool));
  return dir;
}

const config = loadConfig({ DATA_DIR: '/tmp/fs-preflight-unused' });

describe('launch preflight', () => {
  it('finds OpenTofu (from npm), ansible-playbook and ssh with their versions', async () => {
    const result = await checkLaunchTools(launchTools(config), {
      PATH: await pathWith('all', ['ansible-playbook', 'ssh']),
    });
    expect(result.tools.map((t) => [t.tool, t.problem])).toEqual([
      ['tofu', null],
      ['ansible-playbook', null],
      ['ssh', null],
    ]);
    expect(result.ready).toBe(true);
    expect(result.tools[0]!.version).toMatch(/^OpenTofu v1\.\d+/);
    expect(result.tools[1]!.version).toMatch(/^ansible-playbook \[core 2\.\d+/);
    expect(result.tools[2]!.version).toMatch(/^OpenSSH_\d+\.\d+/);
  });

  for (const hidden of ['ansible-playbook', 'ssh']) {
    it(`names the command that installs ${hidden} when it is not on PATH`, async () => {
      const others = ['ansible-playbook', 'ssh'].filter((tool) => tool !== hidden);
      const result = await checkLaunchTools(launchTools(config), {
        PATH: await pathWith(`no-${hidden}`, others),
      });
      expect(result.ready).toBe(false);
      const problems = result.tools.filter((t) => t.problem);
      expect(problems).toHaveLength(1);
      expect(problems[0]!.problem).toBe(
        `${hidden} is not installed (${hidden}): sudo apt-get install -y ${
          hidden === 'ssh' ? 'openssh-client' : 'ansible'
        }`,
      );
    });
  }

  it('says how to get OpenTofu when TERRAFORM_BIN names a binary that is not there', async () => {
    const withoutTofu = loadConfig({ DATA_DIR: '/tmp/fs-preflight-unused', TERRAFORM_BIN: 'tofu' });
    const result = await checkLaunchTools(launchTools(withoutTofu), {
      PATH: await pathWith('no-tofu', ['ansible-playbook', 'ssh']),
    });
    expect(result.ready).toBe(false);
    expect(result.tools[0]).toEqual({
      tool: 'tofu',
      version: null,
      problem:
        'tofu is not installed (tofu): run npm ci (OpenTofu comes with Fieldstation) or set TERRAFORM_BIN',
    });
  });

  it('refuses a tool older than the oldest version that works', async () => {
    const fake = join(root, 'old-tofu');
    // A stand-in executable printing an old version line, named as such.
    await writeFile(fake, '#!/bin/sh\necho "OpenTofu v1.5.0"\n');
    await chmod(fake, 0o755);
    const old = loadConfig({ DATA_DIR: '/tmp/fs-preflight-unused', TERRAFORM_BIN: fake });
    const result = await checkLaunchTools(launchTools(old), {
      PATH: await pathWith('old', ['ansible-playbook', 'ssh']),
    });
    expect(result.tools[0]!.problem).toBe(
      'tofu 1.5 is too old (needs 1.6 or newer): run npm ci (OpenTofu comes with Fieldstation) or set TERRAFORM_BIN',
    );
  });
});
