import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnsibleLogEntry } from './ansible-events';
import { AnsibleRunner } from './ansible-runner';
import { SshClient } from './ssh-client';
import { waitFor } from '../../test/test-env';
import { testSshTarget } from './testing/test-ssh-host';

const playbooksDir = resolve(__dirname, '../../../playbooks');
const ssh = new SshClient();
const runner = new AnsibleRunner(ssh, { playbooksDir });
const target = testSshTarget();
/** "Within seconds": the slowest stop is Ansible's SIGTERM grace before SIGKILL (3 s). */
const PROMPT_MS = 5_000;

/** How long `work` takes to reject once `cancel` is aborted. */
async function rejectionDelay(work: Promise<unknown>, cancel: AbortController): Promise<number> {
  cancel.abort(new Error('cancelled by the test'));
  const aborted = Date.now();
  await expect(work).rejects.toThrow();
  return Date.now() - aborted;
}

describe('Cancelling runner steps', () => {
  // A host that accepts TCP and never says a word: every SSH attempt hangs until its timeout.
  let silent: Server;
  let silentPort = 0;
  const connections: Socket[] = [];
  let connected: () => void = () => undefined;

  beforeAll(async () => {
    silent = createServer((socket) => {
      connections.push(socket);
      connected();
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of connections) socket.destroy();
    await new Promise<void>((done) => silent.close(() => done()));
  });

  const firstConnection = () => new Promise<void>((done) => (connected = done));

  it('ends an SSH wait at once, even in the middle of a connection attempt', async () => {
    const cancel = new AbortController();
    const attempt = firstConnection();
    const waiting = ssh.waitUntilReachable(
      { ...target, port: silentPort },
      { timeoutMs: 120_000, signal: cancel.signal },
    );
    await attempt;
    expect(await rejectionDelay(waiting, cancel)).toBeLessThan(PROMPT_MS);
  });

  it('ends a playbook run that still waits for SSH', async () => {
    const cancel = new AbortController();
    const attempt = firstConnection();
    const running = runner.run({
      playbook: 'tests/slow-task.yml',
      target: { ...target, port: silentPort },
      vars: {},
      reach: { timeoutMs: 300_000 },
      signal: cancel.signal,
    });
    await attempt;
    expect(await rejectionDelay(running, cancel)).toBeLessThan(PROMPT_MS);
  });

  it('stops a running playbook and the command it runs on the host', async () => {
    const cancel = new AbortController();
    let taskStarted: () => void = () => undefined;
    const started = new Promise<void>((done) => (taskStarted = done));
    const running = runner.run({
      playbook: 'tests/slow-task.yml',
      target,
      vars: {},
      signal: cancel.signal,
      onEvent: (entry: AnsibleLogEntry) => {
        if (entry.kind === 'task-start' && entry.task === 'Wait a long time') taskStarted();
      },
    });
    await started;
    expect(await rejectionDelay(running, cancel)).toBeLessThan(PROMPT_MS);
    // Neither ansible-playbook here nor the task's command on the host (also this machine) stays.
    const processes = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n');
    expect(processes().filter((line) => line.includes('slow-task.yml'))).toEqual([]);
    await waitFor(() => (processes().includes('sleep 300') ? undefined : true), {
      timeoutMs: PROMPT_MS,
      what: 'the remote sleep to end',
    });
  }, 60_000);
});
