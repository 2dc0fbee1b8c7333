import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const MAIN_JS = join(__dirname, '../dist/main.js');

/** The built server (`backend/dist/main.js`) as `npm start` runs it, with captured output. */
export class ServerProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // 'close', not 'exit': only then has all of the process's output been read.
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** `ownGroup`: in a process group of its own, so `kill()` also ends its Ansible and SSH. */
  static start(
    env: NodeJS.ProcessEnv,
    args: string[] = [],
    { ownGroup = false } = {},
  ): ServerProcess {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownGroup,
    });
    return new ServerProcess(child);
  }

  /** What a crash or a power cut does to a machine's process: no shutdown hook runs. */
  async kill(): Promise<void> {
    process.kill(-this.child.pid!, 'SIGKILL');
    await this.exited;
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
