import { Inject, Injectable } from '@nestjs/common';
import { PLATFORM_HOST_OPTIONS, type PlatformHostOptions } from './platform-host';
import { SshClient, type SshSession, type SshTarget } from './ssh-client';

export type HostCheckName = 'connection' | 'sudo' | 'os' | 'python' | 'docker' | 'disk';

/** ok: fine; warn: the launch copes (e.g. installs Docker) or it may be tight; fail: it cannot. */
export interface HostCheck {
  name: HostCheckName;
  status: 'ok' | 'warn' | 'fail';
  message: string;
}

export interface HostCheckReport {
  /** No check failed: a launch can start. */
  ready: boolean;
  /** What the host presented (`SHA256:…`), for the user to compare; null when it did not answer. */
  hostKeyFingerprint: string | null;
  checks: HostCheck[];
}

/** Below this much free space on `/`, images and a first database fill the disk. */
const DISK_WARN_BYTES = 5 * 1024 ** 3;
/** The distributions the host role installs Docker on when it is missing (setup-Debian.yml). */
const DOCKER_INSTALLABLE = /^(debian|ubuntu)$/;

/**
 * Checks a host before anything is launched on it, over SSH with fixed commands: login with the
 * key, sudo without a password, the OS, Python (Ansible needs it), Docker and free disk.
 * Every check runs even when an earlier one fails (except after a failed login).
 */
@Injectable()
export class HostChecks {
  private readonly dockerHost: string;

  constructor(
    private readonly ssh: SshClient,
    @Inject(PLATFORM_HOST_OPTIONS) options: PlatformHostOptions,
  ) {
    this.dockerHost = options.dockerHost ?? 'unix:///var/run/docker.sock';
  }

  async check(target: SshTarget): Promise<HostCheckReport> {
    let session: SshSession;
    try {
      session = await this.ssh.connect(target, 10_000);
    } catch (error) {
      return {
        ready: false,
        hostKeyFingerprint: null,
        checks: [
          {
            name: 'connection',
            status: 'fail',
            message: `${target.username}@${target.host}:${target.port}: ${(error as Error).message}`,
          },
        ],
      };
    }
    try {
      const checks: HostCheck[] = [
        {
          name: 'connection',
          status: 'ok',
          message: `Logged in as ${target.username} with the key; host key ${session.hostKey.fingerprint}`,
        },
      ];
      const sudo = await output(session, ['sudo', '-n', 'true']);
      checks.push(
        sudo.ok
          ? { name: 'sudo', status: 'ok', message: 'sudo works without a password' }
          : {
              name: 'sudo',
              status: 'fail',
              message: `sudo asks for a password or is not allowed (${sudo.error}); add "${target.username} ALL=(ALL) NOPASSWD:ALL" in /etc/sudoers.d/`,
            },
      );
      const osRelease = await output(session, ['cat', '/etc/os-release']);
      const os = parseOsRelease(osRelease.lines);
      checks.push(
        osRelease.ok
          ? { name: 'os', status: 'ok', message: os.name }
          : {
              name: 'os',
              status: 'warn',
              message: 'Unknown operating system (no /etc/os-release)',
            },
      );
      const python = await output(session, ['python3', '--version']);
      checks.push(
        python.ok
          ? { name: 'python', status: 'ok', message: python.lines.join(' ').trim() }
          : { name: 'python', status: 'fail', message: 'python3 is missing (Ansible needs it)' },
      );
      checks.push(await this.dockerCheck(session, os.id, sudo.ok));
      checks.push(await diskCheck(session));
      return {
        ready: checks.every((check) => check.status !== 'fail'),
        hostKeyFingerprint: session.hostKey.fingerprint,
        checks,
      };
    } finally {
      session.close();
    }
  }

  private async dockerCheck(session: SshSession, osId: string, sudo: boolean): Promise<HostCheck> {
    const client = await output(session, ['docker', '--version']);
    if (!client.ok) {
      return DOCKER_INSTALLABLE.test(osId)
        ? {
            name: 'docker',
            status: 'warn',
            message: 'Docker is not installed; the launch installs it',
          }
        : {
            name: 'docker',
            status: 'fail',
            message: 'Docker is not installed; install Docker Engine with the compose plugin',
          };
    }
    const version = client.lines.join(' ').trim();
    if (!sudo) return { name: 'docker', status: 'ok', message: version };
    const server = await output(session, [
      'sudo',
      '-n',
      'env',
      `DOCKER_HOST=${this.dockerHost}`,
      'docker',
      'version',
      '--format',
      '{{.Server.Version}}',
    ]);
    return server.ok
      ? {
          name: 'docker',
          status: 'ok',
          message: `${version}; daemon ${server.lines.join('').trim()}`,
        }
      : {
          name: 'docker',
          status: 'warn',
          message: `${version}, but the daemon does not answer; the launch starts it`,
        };
  }
}

async function diskCheck(session: SshSession): Promise<HostCheck> {
  const df = await output(session, ['df', '-Pk', '/']);
  const available = Number(df.lines[1]?.trim().split(/\s+/)[3]) * 1024;
  if (!df.ok || !Number.isFinite(available)) {
    return { name: 'disk', status: 'warn', message: 'Free disk space could not be read' };
  }
  const gib = (available / 1024 ** 3).toFixed(1);
  return available < DISK_WARN_BYTES
    ? { name: 'disk', status: 'warn', message: `${gib} GiB free on /; at least 5 GiB is advised` }
    : { name: 'disk', status: 'ok', message: `${gib} GiB free on /` };
}

function parseOsRelease(lines: string[]): { id: string; name: string } {
  const values = Object.fromEntries(
    lines
      .map((line) => /^([A-Z_]+)=("?)(.*)\2$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => [match[1], match[3]]),
  );
  return {
    id: values.ID ?? '',
    name: values.PRETTY_NAME ?? values.NAME ?? 'Unknown operating system',
  };
}

async function output(
  session: SshSession,
  command: string[],
): Promise<{ ok: boolean; lines: string[]; error: string }> {
  const lines: string[] = [];
  try {
    await session.run(command, ({ stream, line }) => {
      if (stream === 'stdout') lines.push(line);
    });
    return { ok: true, lines, error: '' };
  } catch (error) {
    return { ok: false, lines, error: (error as Error).message };
  }
}
