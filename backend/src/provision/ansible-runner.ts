import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Inject, Injectable } from '@nestjs/common';
import { AnsibleInputError, AnsibleRunError } from './ansible-errors';
import {
  type AnsibleHostStats,
  type AnsibleLogEntry,
  type AnsibleTaskStatus,
  parseAnsibleLine,
} from './ansible-events';
import { type HostKey, SshClient, type SshTarget, type WaitOptions } from './ssh-client';

export const ANSIBLE_RUNNER_OPTIONS = Symbol('ANSIBLE_RUNNER_OPTIONS');

export interface AnsibleRunnerOptions {
  /** The repository's `playbooks/` directory (holds ansible.cfg, roles, callback plugins). */
  playbooksDir: string;
  /** `ansible-playbook` on PATH, or an absolute path. */
  binary?: string;
}

export interface AnsibleRunRequest {
  /** A playbook path relative to the playbooks dir, e.g. `prepare-host.yml`. */
  playbook: string;
  target: SshTarget;
  /**
   * Extra variables, written to a 0600 JSON file (`-e @vars.json`). Ansible evaluates Jinja in
   * them, so strings holding `{{`, `{%` or `{#` are refused: pass user text as files or base64.
   */
  vars: Record<string, unknown>;
  onEvent?: (entry: AnsibleLogEntry) => void;
  /** How long to wait for the host to accept SSH before running anything. */
  reach?: WaitOptions;
  signal?: AbortSignal;
}

export interface AnsibleRunResult {
  /** The verified host key; on first contact (no stored fingerprint) the caller stores it. */
  hostKey: HostKey;
  /** Task results summed over the hosts: `changed === 0` means the run changed nothing. */
  totals: Pick<AnsibleHostStats, 'ok' | 'changed' | 'failures' | 'unreachable' | 'skipped'>;
}

/** Variables the child inherits from this process; secrets never travel by environment here. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR'];
const PLAYBOOK_PATH = /^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)*\.yml$/;
const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const USER_NAME = /^[a-z_][a-z0-9_.-]{0,31}$/i;
const VARIABLE_NAME = /^[a-z_][a-z0-9_]*$/i;
const JINJA_MARKERS = /\{\{|\{%|\{#/;

/** Refuses anything Ansible would template or that could smuggle options into ssh. */
function validate(request: AnsibleRunRequest, playbooksDir: string): void {
  const { target, playbook } = request;
  if (!PLAYBOOK_PATH.test(playbook) || !existsSync(join(playbooksDir, playbook))) {
    throw new AnsibleInputError(`unknown playbook "${playbook}"`);
  }
  if (!(isIP(target.host) || HOST_NAME.test(target.host))) {
    throw new AnsibleInputError(`invalid host "${target.host}"`);
  }
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new AnsibleInputError(`invalid port ${target.port}`);
  }
  if (!USER_NAME.test(target.username)) {
    throw new AnsibleInputError(`invalid SSH user name "${target.username}"`);
  }
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'string' && JINJA_MARKERS.test(value)) {
      throw new AnsibleInputError(`variable ${path} contains template markers; pass it as base64`);
    }
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${path}[${index}]`));
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) visit(item, `${path}.${key}`);
    }
  };
  for (const [name, value] of Object.entries(request.vars)) {
    if (!VARIABLE_NAME.test(name)) throw new AnsibleInputError(`invalid variable name "${name}"`);
    visit(value, name);
  }
}

function knownHostsLine(target: SshTarget, hostKey: HostKey): string {
  const name = target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
  return `${name} ${hostKey.publicKey}\n`;
}

/** Ends the SSH control masters of a run so no connection outlives it. */
async function closeControlMasters(controlDir: string): Promise<void> {
  const sockets = await readdir(controlDir).catch(() => [] as string[]);
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((done) => {
          const child = spawn(
            'ssh',
            ['-o', `ControlPath=${join(controlDir, socket)}`, '-O', 'exit', 'control-master'],
            { stdio: 'ignore' },
          );
          child.on('error', () => done()).on('close', () => done());
        }),
    ),
  );
}

/** How long Ansible gets to stop on SIGTERM before its process group is killed. */
const STOP_GRACE_MS = 3_000;

/** SIGTERM to the playbook's process group, SIGKILL if it is still there after a grace period. */
function stopProcessGroup(child: ChildProcess): void {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  };
  signalGroup('SIGTERM');
  const kill = setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
  child.once('close', () => clearTimeout(kill));
}

/**
 * Runs a playbook against one SSH host with a pinned host key. Variables, inventory, private
 * key and known_hosts live in a 0700 temp dir that is deleted in `finally`; output is streamed
 * as structured entries; a failure becomes an {@link AnsibleRunError} naming the task.
 */
@Injectable()
export class AnsibleRunner {
  private readonly playbooksDir: string;
  private readonly binary: string;

  constructor(
    private readonly ssh: SshClient,
    @Inject(ANSIBLE_RUNNER_OPTIONS) options: AnsibleRunnerOptions,
  ) {
    this.playbooksDir = resolve(options.playbooksDir);
    this.binary = options.binary ?? 'ansible-playbook';
  }

  async run(request: AnsibleRunRequest): Promise<AnsibleRunResult> {
    validate(request, this.playbooksDir);
    const { target } = request;
    // Verifies the stored fingerprint (or records it on first contact) and gives us the full
    // key for known_hosts, so OpenSSH itself enforces the same key with StrictHostKeyChecking.
    const hostKey = await this.ssh.waitUntilReachable(target, {
      ...request.reach,
      signal: request.signal,
    });

    const workDir = await mkdtemp(join(tmpdir(), 'fieldstation-ansible-'));
    const controlDir = join(workDir, 'cp');
    try {
      await chmod(workDir, 0o700);
      await mkdir(controlDir, { mode: 0o700 });
      const file = (name: string) => join(workDir, name);
      const privateKey = target.privateKey.endsWith('\n')
        ? target.privateKey
        : `${target.privateKey}\n`;
      await writeFile(file('id_key'), privateKey, { mode: 0o600 });
      await writeFile(file('known_hosts'), knownHostsLine(target, hostKey), { mode: 0o600 });
      await writeFile(file('vars.json'), JSON.stringify(request.vars), { mode: 0o600 });
      const inventory = {
        all: {
          hosts: {
            [target.host]: {
              ansible_host: target.host,
              ansible_port: target.port,
              ansible_user: target.username,
              ansible_ssh_private_key_file: file('id_key'),
              // Only paths this runner created: no user input reaches ssh's options.
              ansible_ssh_common_args: [
                '-o StrictHostKeyChecking=yes',
                `-o UserKnownHostsFile=${file('known_hosts')}`,
                '-o GlobalKnownHostsFile=/dev/null',
                '-o IdentitiesOnly=yes',
                '-o BatchMode=yes',
              ].join(' '),
            },
          },
        },
      };
      await writeFile(file('inventory.json'), JSON.stringify(inventory), { mode: 0o600 });

      const env: NodeJS.ProcessEnv = { LANG: 'C.UTF-8' };
      for (const name of INHERITED_ENV) {
        if (process.env[name] !== undefined) env[name] = process.env[name];
      }
      Object.assign(env, {
        ANSIBLE_CONFIG: join(this.playbooksDir, 'ansible.cfg'),
        ANSIBLE_HOST_KEY_CHECKING: 'True',
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
        ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir,
        ANSIBLE_LOCAL_TEMP: file('local-tmp'),
        ANSIBLE_NOCOLOR: '1',
        PYTHONUNBUFFERED: '1',
      });
      const args = [
        '-i',
        file('inventory.json'),
        '-e',
        `@${file('vars.json')}`,
        join(this.playbooksDir, request.playbook),
      ];
      return { hostKey, totals: await this.spawnPlaybook(request, args, env) };
    } finally {
      await closeControlMasters(controlDir);
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private spawnPlaybook(
    request: AnsibleRunRequest,
    args: string[],
    env: NodeJS.ProcessEnv,
  ): Promise<AnsibleRunResult['totals']> {
    const emit = request.onEvent ?? (() => undefined);
    const totals = { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0 };
    let firstFailure:
      { task: string; host: string; status: AnsibleTaskStatus; message: string } | undefined;
    const stderrTail: string[] = [];

    return new Promise((resolvePromise, reject) => {
      // Its own process group, so a cancel reaches the forked workers and their ssh too.
      const child = spawn(this.binary, args, {
        cwd: this.playbooksDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const stopOnCancel = () => stopProcessGroup(child);
      if (request.signal?.aborted) stopOnCancel();
      request.signal?.addEventListener('abort', stopOnCancel, { once: true });
      child.once('close', () => request.signal?.removeEventListener('abort', stopOnCancel));
      createInterface({ input: child.stdout }).on('line', (line) => {
        const entry = parseAnsibleLine(line);
        if (
          entry.kind === 'task-result' &&
          (entry.status === 'failed' || entry.status === 'unreachable') &&
          !entry.ignored &&
          !firstFailure
        ) {
          firstFailure = { ...entry, message: entry.message ?? '' };
        }
        if (entry.kind === 'stats') {
          for (const stats of Object.values(entry.hosts)) {
            for (const key of Object.keys(totals) as (keyof typeof totals)[]) {
              totals[key] += stats[key];
            }
          }
        }
        emit(entry);
      });
      createInterface({ input: child.stderr }).on('line', (line) => {
        stderrTail.push(line);
        if (stderrTail.length > 10) stderrTail.shift();
        emit({ kind: 'output', stream: 'stderr', line });
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (request.signal?.aborted) return reject(request.signal.reason as Error);
        if (code === 0) return resolvePromise(totals);
        reject(
          firstFailure
            ? new AnsibleRunError(
                request.playbook,
                code,
                firstFailure.task,
                firstFailure.host,
                `${firstFailure.status === 'unreachable' ? 'unreachable: ' : ''}${firstFailure.message}`,
              )
            : new AnsibleRunError(request.playbook, code, null, null, stderrTail.join('\n')),
        );
      });
    });
  }
}
