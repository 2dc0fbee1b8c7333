import { Injectable } from '@nestjs/common';
import { PlatformHost } from './platform-host';
import { SshClient, type SshSession, type SshTarget } from './ssh-client';

/** The processor's one-shot commands (platform-stack/processor/src/debugging/debug-commands.ts). */
const COMMANDS = {
  listDeadLetters: '--list-dead-letters',
  replayDeadLetters: '--replay-dead-letters',
  purgeDeadLetters: '--purge-dead-letters',
  dryRun: '--dry-run',
} as const;
const RESULT_PREFIX = 'FIELDSTATION-RESULT ';
const PROCESSOR_MAIN = '/app/processor/main.cjs';

/** Run inside the processor container: prints its status server's script log. */
const SCRIPT_LOG_SCRIPT =
  "fetch('http://127.0.0.1:8080/script-log').then((r) => r.text()).then((t) => process.stdout.write(t))";

/** The processor is not running (stopped, restarting, or the platform is not on its host). */
export class ProcessorNotRunningError extends Error {
  override readonly name = 'ProcessorNotRunningError';
}

/** A debugging command ran and failed; the message is the command's own (it holds no secret). */
export class ProcessorCommandError extends Error {
  override readonly name = 'ProcessorCommandError';
}

/**
 * The Processing tab's reach into a running processor, over the platform's SSH connection with
 * fixed commands: `docker exec` into the processor's container, its status server's
 * `/script-log` and its one-shot debugging commands (which use the processor's own broker login
 * from the container's environment). What the user sends (a script, readings) travels on stdin,
 * never in a command line. Nothing is published or opened on the host for it.
 */
@Injectable()
export class ProcessorDebugging {
  constructor(
    private readonly ssh: SshClient,
    private readonly host: PlatformHost,
  ) {}

  /** `{lines, dropped}` from the processor's memory. */
  scriptLog(platformId: string, target: SshTarget): Promise<unknown> {
    return this.inProcessor(platformId, target, async (session, exec) => {
      let output = '';
      await session.run([...exec(), 'node', '-e', SCRIPT_LOG_SCRIPT], ({ stream, line }) => {
        if (stream === 'stdout') output += line;
      });
      return JSON.parse(output) as unknown;
    });
  }

  listDeadLetters(platformId: string, target: SshTarget): Promise<unknown> {
    return this.command(platformId, target, COMMANDS.listDeadLetters);
  }

  replayDeadLetters(platformId: string, target: SshTarget): Promise<unknown> {
    return this.command(platformId, target, COMMANDS.replayDeadLetters);
  }

  purgeDeadLetters(platformId: string, target: SshTarget): Promise<unknown> {
    return this.command(platformId, target, COMMANDS.purgeDeadLetters);
  }

  /** `request` ({scriptSource, from, readings}) is JSON on the command's stdin. */
  dryRun(platformId: string, target: SshTarget, request: unknown): Promise<unknown> {
    return this.command(platformId, target, COMMANDS.dryRun, JSON.stringify(request));
  }

  private command(
    platformId: string,
    target: SshTarget,
    flag: string,
    stdin?: string,
  ): Promise<unknown> {
    return this.inProcessor(platformId, target, async (session, exec) => {
      let result: string | undefined;
      const stderr: string[] = [];
      await session
        .run(
          [...exec(stdin !== undefined), 'node', PROCESSOR_MAIN, flag],
          ({ stream, line }) => {
            if (stream === 'stdout' && line.startsWith(RESULT_PREFIX)) {
              result = line.slice(RESULT_PREFIX.length);
            } else if (stream === 'stderr') stderr.push(line);
          },
          stdin,
        )
        .catch(() => {
          throw new ProcessorCommandError(stderr.slice(-5).join('\n') || `${flag} failed`);
        });
      if (result === undefined) throw new ProcessorCommandError(`${flag} printed no result`);
      return JSON.parse(result) as unknown;
    });
  }

  /** `exec(withStdin)` is `… docker exec [-i] <processor container>`, for a command to follow. */
  private async inProcessor<T>(
    platformId: string,
    target: SshTarget,
    work: (session: SshSession, exec: (withStdin?: boolean) => string[]) => Promise<T>,
  ): Promise<T> {
    const { composeProject } = this.host.layout(platformId);
    const docker = this.host.dockerCommand();
    const session = await this.ssh.connect(target);
    try {
      const containers = await this.host.runningContainers(session, composeProject, 'processor');
      if (containers.length !== 1) {
        throw new ProcessorNotRunningError(
          `The platform's processor is not running (${containers.length} running containers)`,
        );
      }
      const container = containers[0]!;
      return await work(session, (withStdin = false) => [
        ...docker,
        'exec',
        ...(withStdin ? ['--interactive'] : []),
        container,
      ]);
    } finally {
      session.close();
    }
  }
}
