import { createHash } from 'node:crypto';
import { type Duplex, type Readable, Transform, type Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { NodeSSH } from 'node-ssh';
import { LineSplitter } from './line-splitter';
import { HostKeyMismatchError, HostUnreachableError, SshCommandError } from './ssh-errors';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** OpenSSH/PEM private key text; it stays in memory (never a file, never argv). */
  privateKey: string;
  /**
   * `SHA256:<base64>` exactly as `ssh-keygen -l` prints it. `null` on first contact: the key is
   * trusted and its fingerprint returned, so the caller stores it (trust on first use).
   */
  hostKeyFingerprint: string | null;
}

export interface HostKey {
  /** `SHA256:<base64, no padding>`, as OpenSSH prints it. */
  fingerprint: string;
  /** The key in known_hosts form: `<type> <base64 blob>`. */
  publicKey: string;
}

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

export interface WaitOptions {
  /** Total budget for all attempts. */
  timeoutMs?: number;
  /** First pause between attempts; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Ends the wait (and an attempt in progress) at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/** Rejects with the signal's reason as soon as it aborts, whatever `work` is waiting for. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    // Always handled: `work` settling after the abort must not be an unhandled rejection.
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The SSH wire-format key blob starts with its algorithm name as a length-prefixed string. */
function hostKeyOf(keyBlob: Buffer): HostKey {
  const type = keyBlob.subarray(4, 4 + keyBlob.readUInt32BE(0)).toString('ascii');
  return {
    fingerprint: fingerprintOf(keyBlob),
    publicKey: `${type} ${keyBlob.toString('base64')}`,
  };
}

/** POSIX single-quoting: the remote login shell sees each argument as one literal word. */
export function quoteForShell(argument: string): string {
  return `'${argument.replace(/'/g, `'\\''`)}'`;
}

/** One authenticated connection whose host key has been verified. Close it when done. */
export class SshSession {
  constructor(
    private readonly ssh: NodeSSH,
    readonly hostKey: HostKey,
  ) {}

  /**
   * Runs a fixed command (argument array, each argument quoted) and streams its output lines.
   * Throws {@link SshCommandError} on a non-zero exit, with the last lines of stderr.
   */
  async run(
    command: readonly string[],
    onLine: (line: OutputLine) => void = () => undefined,
    /** Written to the command's stdin (then closed): how input from a user reaches a command. */
    stdin?: string,
  ): Promise<void> {
    const stderrTail: string[] = [];
    const stdout = new LineSplitter((line) => onLine({ stream: 'stdout', line }));
    const stderr = new LineSplitter((line) => {
      stderrTail.push(line);
      if (stderrTail.length > 5) stderrTail.shift();
      onLine({ stream: 'stderr', line });
    });
    // ssh2's exec directly: node-ssh's execCommand also keeps all output in memory for its result.
    const result = await new Promise<{ code: number | null; signal: string | null }>(
      (resolve, reject) => {
        const connection = this.ssh.connection;
        if (!connection) return reject(new Error('the SSH connection is closed'));
        connection.once('error', reject);
        connection.exec(command.map(quoteForShell).join(' '), (error, channel) => {
          connection.removeListener('error', reject);
          if (error) return reject(error);
          let code: number | null = null;
          let signal: string | null = null;
          channel.on('data', (chunk: Buffer) => stdout.push(chunk));
          channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
          channel.on('exit', (exitCode: number | null, exitSignal?: string) => {
            code = exitCode ?? null;
            signal = exitSignal ?? null;
          });
          channel.on('close', () => resolve({ code, signal }));
          channel.end(stdin);
        });
      },
    );
    stdout.flush();
    stderr.flush();
    if (result.code !== 0) {
      throw new SshCommandError(
        command.join(' '),
        result.code,
        result.signal,
        stderrTail.join('\n'),
      );
    }
  }

  /**
   * Runs a fixed command (argument array, each argument quoted) and streams its stdout as bytes
   * on the SSH channel itself (no file, no encoding; the channel's window is the back-pressure).
   * The stream ends only after the command exited 0; otherwise it fails with
   * {@link SshCommandError} and the last lines of stderr, so a consumer never takes a cut-off
   * output for a whole one. Destroying the stream closes the channel (the command then gets
   * SIGPIPE on its next write).
   */
  streamOutput(command: readonly string[]): Promise<Readable> {
    const connection = this.ssh.connection;
    if (!connection) return Promise.reject(new Error('The SSH connection is closed'));
    return new Promise((resolve, reject) => {
      connection.exec(command.map(quoteForShell).join(' '), (error, channel) => {
        if (error) return reject(error);
        const stderrTail: string[] = [];
        const stderr = new LineSplitter((line) => {
          stderrTail.push(line);
          if (stderrTail.length > 5) stderrTail.shift();
        });
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        const exited = new Promise<void>((done, fail) => {
          let status: { code: number | null; signal: string | null } | undefined;
          channel.once('exit', (code: number | null, signal?: string) => {
            status = { code, signal: signal ?? null };
          });
          channel.once('close', () => {
            stderr.flush();
            if (status?.code === 0) done();
            else {
              fail(
                new SshCommandError(
                  command.join(' '),
                  status?.code ?? null,
                  status?.signal ?? (status ? null : 'channel closed without exit status'),
                  stderrTail.join('\n'),
                ),
              );
            }
          });
        });
        // The command's output ends only once its exit status says it is complete.
        const output = new Transform({
          transform: (chunk: Buffer, _encoding, done) => done(null, chunk),
          flush: (done) => void exited.then(() => done(), done),
        });
        exited.catch(() => undefined);
        channel.on('error', (failure: Error) => output.destroy(failure));
        channel.pipe(output);
        output.once('close', () => {
          if (!channel.destroyed) channel.close();
        });
        resolve(output);
      });
    });
  }

  /**
   * Runs a fixed command (argument array, each argument quoted) whose stdin is what `feed` writes
   * into the SSH channel (then closed); the channel's window is the back-pressure. Resolves once
   * `feed` resolved and the command exited 0; a failing `feed` closes the channel and is thrown.
   * Throws {@link SshCommandError} on a non-zero exit, with the last lines of stderr.
   */
  runWithInput(
    command: readonly string[],
    feed: (stdin: Writable) => Promise<void>,
  ): Promise<void> {
    const connection = this.ssh.connection;
    if (!connection) return Promise.reject(new Error('The SSH connection is closed'));
    return new Promise((resolve, reject) => {
      connection.exec(command.map(quoteForShell).join(' '), (error, channel) => {
        if (error) return reject(error);
        const stderrTail: string[] = [];
        const stderr = new LineSplitter((line) => {
          stderrTail.push(line);
          if (stderrTail.length > 5) stderrTail.shift();
        });
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('data', () => undefined);
        let status: { code: number | null; signal: string | null } | undefined;
        channel.once('exit', (code: number | null, signal?: string) => {
          status = { code, signal: signal ?? null };
        });
        const exited = new Promise<void>((done, fail) =>
          channel.once('close', () => {
            stderr.flush();
            if (status?.code === 0) done();
            else {
              fail(
                new SshCommandError(
                  command.join(' '),
                  status?.code ?? null,
                  status?.signal ?? (status ? null : 'channel closed without exit status'),
                  stderrTail.join('\n'),
                ),
              );
            }
          }),
        );
        feed(channel).then(
          () => {
            channel.end();
            exited.then(resolve, reject);
          },
          (failure: unknown) => {
            channel.close();
            exited.catch(() => undefined);
            reject(failure);
          },
        );
      });
    });
  }

  /** Streams a remote file over SFTP (e.g. a database dump on its way to the browser). */
  async download(remotePath: string): Promise<Readable> {
    const sftp = await this.ssh.requestSFTP();
    const stream = sftp.createReadStream(remotePath);
    stream.once('close', () => sftp.end());
    return stream;
  }

  /** Writes a remote file over SFTP (mode 0600), replacing it (e.g. a backup on its way to restore). */
  async upload(remotePath: string): Promise<Writable> {
    const sftp = await this.ssh.requestSFTP();
    const stream = sftp.createWriteStream(remotePath, { mode: 0o600 });
    stream.once('close', () => sftp.end());
    return stream;
  }

  /** Deletes a remote file over SFTP; one already gone is fine. */
  async removeFile(remotePath: string): Promise<void> {
    const sftp = await this.ssh.requestSFTP();
    try {
      await new Promise<void>((resolve, reject) =>
        sftp.unlink(remotePath, (error) =>
          !error || (error as { code?: number }).code === 2 ? resolve() : reject(error),
        ),
      );
    } finally {
      sftp.end();
    }
  }

  /**
   * A TCP connection from the host to a port on its own loopback, carried inside this SSH
   * connection (a direct-tcpip channel, what `ssh -W 127.0.0.1:<port>` opens): services bound to
   * the host's loopback are reached without a listening port here and without a child process.
   */
  forwardToLoopback(port: number): Promise<Duplex> {
    return this.ssh.forwardOut('127.0.0.1', 0, '127.0.0.1', port);
  }

  close(): void {
    this.ssh.dispose();
  }
}

/** Opens SSH connections with a pinned host key; the only SSH client of the backend. */
@Injectable()
export class SshClient {
  /** One connection attempt; a host key other than the recorded one is a HostKeyMismatchError. */
  async connect(
    target: SshTarget,
    readyTimeoutMs = 15_000,
    signal?: AbortSignal,
  ): Promise<SshSession> {
    signal?.throwIfAborted();
    let presented: HostKey | undefined;
    const ssh = new NodeSSH();
    try {
      const connecting = ssh.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        readyTimeout: readyTimeoutMs,
        hostVerifier: (keyBlob: Buffer) => {
          presented = hostKeyOf(keyBlob);
          return (
            target.hostKeyFingerprint === null ||
            presented.fingerprint === target.hostKeyFingerprint
          );
        },
      });
      // A silent host holds an attempt for the whole readyTimeout: a cancel must not wait.
      await untilAborted(connecting, signal);
    } catch (error) {
      ssh.dispose();
      if (signal?.aborted) throw error;
      if (
        presented &&
        target.hostKeyFingerprint !== null &&
        presented.fingerprint !== target.hostKeyFingerprint
      ) {
        throw new HostKeyMismatchError(
          target.host,
          target.port,
          target.hostKeyFingerprint,
          presented.fingerprint,
        );
      }
      throw error;
    }
    if (!presented) throw new Error(`${target.host}:${target.port} presented no host key`);
    return new SshSession(ssh, presented);
  }

  /**
   * Retries logging in, with exponential backoff, until the host accepts (a new VM boots, then
   * cloud-init installs the key, so refused connections and refused keys are both retried).
   * A changed host key is never retried; a cancel ends the wait at once. Returns the verified
   * host key.
   */
  async waitUntilReachable(target: SshTarget, options: WaitOptions = {}): Promise<HostKey> {
    const timeoutMs = options.timeoutMs ?? 300_000;
    const maxDelayMs = options.maxDelayMs ?? 5_000;
    const started = Date.now();
    let pause = options.initialDelayMs ?? 250;
    for (;;) {
      const remaining = timeoutMs - (Date.now() - started);
      try {
        const session = await this.connect(
          target,
          Math.max(1_000, Math.min(15_000, remaining)),
          options.signal,
        );
        session.close();
        return session.hostKey;
      } catch (error) {
        if (error instanceof HostKeyMismatchError || options.signal?.aborted) throw error;
        const elapsed = Date.now() - started;
        if (elapsed + pause >= timeoutMs) {
          throw new HostUnreachableError(
            target.host,
            target.port,
            Math.round(elapsed / 1000),
            error instanceof Error ? error.message : String(error),
          );
        }
        await delay(pause, undefined, { signal: options.signal });
        pause = Math.min(pause * 2, maxDelayMs);
      }
    }
  }
}
