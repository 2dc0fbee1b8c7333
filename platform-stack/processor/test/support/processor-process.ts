import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './wait';

const MAIN = path.join(__dirname, '..', '..', 'dist', 'main.cjs');

export interface ProcessorStatus {
  consuming: boolean;
  databaseReady: boolean;
  messagesIn: number;
  readingsOut: number;
  messagesFailed: number;
  writeRetries: number;
  lastWriteError: string | null;
  lastReadingAt: string | null;
  queueDepth: number | null;
  script: { workerRestarts: number; loadedAt: string; reloadError?: string } | null;
}

/** The bundled processor as a child process, configured through its environment like in the image. */
export class ProcessorProcess {
  readonly logLines: string[] = [];
  private statusPort?: number;
  private exited?: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {}

  static async start(env: Record<string, string>): Promise<ProcessorProcess> {
    const child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH ?? '', STATUS_HOST: '127.0.0.1', STATUS_PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const processor = new ProcessorProcess(child);
    processor.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let buffered = '';
    const collect = (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        processor.logLines.push(line);
        const port = /"msg":"status endpoint listening".*"port":(\d+)/.exec(line);
        if (port) processor.statusPort = Number(port[1]);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await waitFor('the processor to consume', async () => {
      if (child.exitCode !== null)
        throw new Error(`processor exited: ${processor.logLines.join('\n')}`);
      return (await processor.tryStatus())?.consuming;
    });
    return processor;
  }

  async status(): Promise<ProcessorStatus> {
    const status = await this.tryStatus();
    if (!status) throw new Error('the processor status endpoint does not answer');
    return status;
  }

  /** Another JSON answer of the status server (e.g. `/script-log`). */
  async get<T>(path: string): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${this.statusPort}${path}`);
    if (!response.ok) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return (await response.json()) as T;
  }

  private async tryStatus(): Promise<ProcessorStatus | undefined> {
    if (!this.statusPort) return undefined;
    try {
      const response = await fetch(`http://127.0.0.1:${this.statusPort}/status`);
      return (await response.json()) as ProcessorStatus;
    } catch {
      return undefined;
    }
  }

  /** SIGKILL: no drain, no goodbye — what a crash or an OOM kill looks like. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it does not exit in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}
