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

  static start(env: NodeJS.ProcessEnv, args: string[] = []): ServerProcess {
    const child = spawn(process.execPath, [MAIN_JS, ...args], {
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServerProcess(child);
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
