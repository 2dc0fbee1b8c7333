/** The host presented a different key than the one recorded on first contact: a hard stop. */
export class HostKeyMismatchError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly expectedFingerprint: string,
    readonly actualFingerprint: string,
  ) {
    super(
      `host key of ${host}:${port} changed: expected ${expectedFingerprint}, ` +
        `got ${actualFingerprint} (refusing to connect)`,
    );
    this.name = 'HostKeyMismatchError';
  }
}

/** The host never accepted an SSH login within the wait budget. */
export class HostUnreachableError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly waitedSeconds: number,
    readonly causeMessage: string,
  ) {
    super(`host ${host}:${port} unreachable after ${waitedSeconds} s: ${causeMessage}`);
    this.name = 'HostUnreachableError';
  }
}

/** A remote command exited non-zero (or by a signal). */
export class SshCommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderrTail: string,
  ) {
    const how = exitCode === null ? `signal ${signal ?? 'unknown'}` : `exit code ${exitCode}`;
    super(`remote command "${command}" failed with ${how}${stderrTail ? `: ${stderrTail}` : ''}`);
    this.name = 'SshCommandError';
  }
}
