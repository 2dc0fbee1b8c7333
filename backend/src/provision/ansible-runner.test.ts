import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleInputError, AnsibleRunError } from './ansible-errors';
import type { AnsibleLogEntry } from './ansible-events';
import { AnsibleRunner } from './ansible-runner';
import { SshClient } from './ssh-client';
import { HostKeyMismatchError } from './ssh-errors';
import { testDockerHost, testSshTarget } from './testing/test-ssh-host';

const playbooksDir = resolve(__dirname, '../../../playbooks');
const runner = new AnsibleRunner(new SshClient(), { playbooksDir });
const target = testSshTarget();
const dockerVars = {
  fieldstation_host_docker_manage_service: false,
  fieldstation_host_docker_host: testDockerHost(),
};

function ansibleTempDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => name.startsWith('fieldstation-ansible-'));
}

describe('AnsibleRunner with real Ansible against the private sshd', () => {
  // A loop device stands in for a cloud data volume: blank on the first run, formatted and
  // mounted by it, left alone by the second.
  const scratch = mkdtempSync(join(tmpdir(), 'fs-ansible-test-'));
  const mountPoint = join(scratch, 'data');
  let loopDevice = '';

  beforeAll(() => {
    const image = join(scratch, 'volume.img');
    writeFileSync(image, '');
    execFileSync('truncate', ['-s', '64M', image]);
    loopDevice = execFileSync('losetup', ['--find', '--show', image]).toString().trim();
  });

  // Every step runs even if an earlier one fails, so a failed run leaves nothing behind.
  afterAll(() => {
    const attempt = (step: () => void) => {
      try {
        step();
      } catch {
        // Already undone (e.g. the volume was never mounted).
      }
    };
    attempt(() => execFileSync('umount', [mountPoint], { stdio: 'ignore' }));
    attempt(() => {
      const fstab = readFileSync('/etc/fstab', 'utf8').split('\n');
      const kept = fstab.filter((line) => !line.includes(mountPoint));
      if (kept.length !== fstab.length) writeFileSync('/etc/fstab', kept.join('\n'));
    });
    attempt(() => loopDevice && execFileSync('losetup', ['--detach', loopDevice]));
    rmSync(scratch, { recursive: true, force: true });
  });

  // The test host has no systemd: the Docker drop-in goes to a scratch unit directory.
  const unitDir = join(scratch, 'systemd');
  const dropIn = join(unitDir, 'docker.service.d', 'fieldstation-data-volume.conf');

  it('prepares the host (data volume, docker found), and a second run changes nothing', async () => {
    const vars = {
      ...dockerVars,
      fieldstation_host_data_device: loopDevice,
      fieldstation_host_data_mount: mountPoint,
      fieldstation_host_docker_requires_mount: true,
      fieldstation_host_systemd_unit_dir: unitDir,
    };
    const entries: AnsibleLogEntry[] = [];
    const before = ansibleTempDirs();
    const first = await runner.run({
      playbook: 'prepare-host.yml',
      target: { ...target, hostKeyFingerprint: null },
      vars,
      onEvent: (entry) => entries.push(entry),
    });
    expect(first.hostKey.fingerprint).toBe(target.hostKeyFingerprint);
    expect(first.totals).toMatchObject({ failures: 0, unreachable: 0 });
    expect(first.totals.changed).toBeGreaterThanOrEqual(2);
    const results = entries.flatMap((entry) => (entry.kind === 'task-result' ? [entry] : []));
    expect(results).toContainEqual(
      expect.objectContaining({
        task: 'fieldstation_host : Create a filesystem on the data volume when it is blank',
        host: target.host,
        status: 'changed',
      }),
    );
    expect(results).toContainEqual(
      expect.objectContaining({
        task: 'fieldstation_host : Install Docker Engine and compose',
        status: 'skipped',
      }),
    );
    expect(execFileSync('findmnt', ['-n', '-o', 'SOURCE', mountPoint]).toString().trim()).toBe(
      loopDevice,
    );
    // Docker requires the mount: a boot without the volume leaves the platforms down.
    expect(readFileSync(dropIn, 'utf8')).toMatch(
      new RegExp(`^\\[Unit\\]\nRequiresMountsFor=${mountPoint}\n`, 'm'),
    );
    expect(results).toContainEqual(
      expect.objectContaining({
        task: 'fieldstation_host : Reload systemd so the drop-in holds from now on',
        status: 'skipped',
      }),
    );

    const second = await runner.run({ playbook: 'prepare-host.yml', target, vars });
    expect(second.totals).toMatchObject({ changed: 0, failures: 0, unreachable: 0 });
    expect(ansibleTempDirs()).toEqual(before);
  }, 240_000);

  it('writes no Docker drop-in without a data volume, and refuses a mount path fstab or systemd would split', async () => {
    const without = await runner.run({
      playbook: 'prepare-host.yml',
      target,
      vars: {
        ...dockerVars,
        fieldstation_host_data_mount: join(scratch, 'unused'),
        fieldstation_host_docker_requires_mount: true,
        fieldstation_host_systemd_unit_dir: join(scratch, 'systemd-without-volume'),
      },
    });
    expect(without.totals).toMatchObject({ changed: 0, failures: 0 });
    expect(existsSync(join(scratch, 'systemd-without-volume'))).toBe(false);

    const split = runner.run({
      playbook: 'prepare-host.yml',
      target,
      vars: {
        ...dockerVars,
        fieldstation_host_data_device: loopDevice,
        fieldstation_host_data_mount: `${mountPoint} /`,
        fieldstation_host_docker_requires_mount: true,
        fieldstation_host_systemd_unit_dir: join(scratch, 'systemd-split'),
      },
    });
    await expect(split).rejects.toMatchObject({
      task: 'fieldstation_host : Refuse a data mount path fstab or systemd would read as several paths',
    });
    expect(existsSync(join(scratch, 'systemd-split'))).toBe(false);
  }, 240_000);

  it("removes Docker's data-volume drop-in with the data of the host's last platform, not before", async () => {
    const platforms = join(mountPoint, 'platforms');
    mkdirSync(join(platforms, 'drop-a', 'data'), { recursive: true });
    mkdirSync(join(platforms, 'drop-b', 'data'), { recursive: true });
    mkdirSync(dirname(dropIn), { recursive: true });
    writeFileSync(dropIn, `[Unit]\nRequiresMountsFor=${mountPoint}\n`);
    const teardown = async (id: string, removeData: boolean) => {
      const entries: AnsibleLogEntry[] = [];
      await runner.run({
        playbook: 'teardown.yml',
        target,
        vars: {
          ...dockerVars,
          fieldstation_stack_platform_dir: join(platforms, id),
          fieldstation_stack_dir: join(platforms, id, 'stack'),
          fieldstation_stack_project: `fieldstation-${id}`,
          fieldstation_stack_processor_image: `fieldstation-processor/${id}:current`,
          fieldstation_stack_remove_data: removeData,
          fieldstation_host_systemd_unit_dir: unitDir,
        },
        onEvent: (entry) => entries.push(entry),
      });
      const status = (task: string) =>
        entries.find(
          (entry) => entry.kind === 'task-result' && entry.task === `fieldstation_stack : ${task}`,
        );
      return {
        removed: status("Remove Docker's data-volume drop-in with the host's last platform"),
        reload: status('Reload systemd without the drop-in'),
      };
    };

    // Another platform's data is still on the volume: the drop-in stays.
    await teardown('drop-a', true);
    expect(existsSync(join(platforms, 'drop-a'))).toBe(false);
    expect(existsSync(dropIn)).toBe(true);
    // The last platform goes but keeps its data: still guarded.
    await teardown('drop-b', false);
    expect(existsSync(dropIn)).toBe(true);
    // Its data goes too: nothing left to guard.
    const last = await teardown('drop-b', true);
    expect(existsSync(dropIn)).toBe(false);
    expect(last.removed).toMatchObject({ status: 'changed' });
    // The test host has no systemd: nothing to reload.
    expect(last.reload).toMatchObject({ status: 'skipped' });
    const again = await teardown('drop-b', true);
    expect(again.removed).toMatchObject({ status: 'ok' });
  }, 240_000);

  it('names the failing task, its host and the message, and keeps secrets out of the log', async () => {
    const secret = 'correct-horse-battery-staple';
    const lines: string[] = [];
    const attempt = runner.run({
      playbook: 'tests/failing-task.yml',
      target,
      vars: { fieldstation_test_secret: secret },
      onEvent: (entry) => lines.push(JSON.stringify(entry)),
    });
    await expect(attempt).rejects.toBeInstanceOf(AnsibleRunError);
    await expect(attempt).rejects.toThrow(
      /^tests\/failing-task\.yml: task "Break on purpose" failed on 127\.0\.0\.1: .*disk full/,
    );
    expect(lines.some((line) => line.includes('"task":"Say hello"'))).toBe(true);
    expect(lines.join('\n')).not.toContain(secret);
  }, 120_000);

  it('cuts a long failure message at a word boundary, never mid-word', async () => {
    const attempt = runner.run({ playbook: 'tests/long-error.yml', target, vars: {} });
    await expect(attempt).rejects.toBeInstanceOf(AnsibleRunError);
    const { detail } = (await attempt.catch((error: unknown) => error)) as AnsibleRunError;
    // The end of the message is kept (where the error is), starting with a whole word.
    expect(detail).toMatch(
      /^… (network|fieldstation-\d+_default|declared|as|external,|but|could|not|be|found) /,
    );
    expect(detail).toMatch(/could not be found \| rc=3$/);
    expect(detail.length).toBeLessThanOrEqual(2002);
  }, 120_000);

  it('refuses a host whose key changed before Ansible starts', async () => {
    await expect(
      runner.run({
        playbook: 'prepare-host.yml',
        target: {
          ...target,
          hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        },
        vars: dockerVars,
      }),
    ).rejects.toThrow(HostKeyMismatchError);
  });

  it('reports an unreachable host with its address and the cause', async () => {
    await expect(
      runner.run({
        playbook: 'prepare-host.yml',
        target: { ...target, port: 1 },
        vars: dockerVars,
        reach: { timeoutMs: 1_500, initialDelayMs: 100 },
      }),
    ).rejects.toThrow(/^host 127\.0\.0\.1:1 unreachable after \d+ s: connect ECONNREFUSED/);
  });

  it('refuses template markers in variables and option-like targets before connecting', async () => {
    await expect(
      runner.run({
        playbook: 'prepare-host.yml',
        target,
        vars: { fieldstation_script: { body: "{{ lookup('pipe', 'id') }}" } },
      }),
    ).rejects.toThrow(
      new AnsibleInputError(
        'variable fieldstation_script.body contains template markers; pass it as base64',
      ),
    );
    await expect(
      runner.run({
        playbook: 'prepare-host.yml',
        target: { ...target, username: '-oProxyCommand=x' },
        vars: {},
      }),
    ).rejects.toThrow(AnsibleInputError);
    await expect(runner.run({ playbook: '../etc/passwd.yml', target, vars: {} })).rejects.toThrow(
      AnsibleInputError,
    );
  });
});
