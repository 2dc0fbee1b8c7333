import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '../../scripts/services/dockerd.sh');

/**
 * A Docker daemon of the test's own (scripts/services/dockerd.sh with its own directory, socket,
 * bridge and address pool), for a test that restarts its platform's Docker host: the shared
 * daemon (FS_TEST_DOCKER_HOST) runs every other test's containers and is never restarted.
 * Its bridge and pool must not clash with fsdocker0 10.213.0.0/24 and pool 10.214.0.0/16.
 */
export class OwnDockerd {
  readonly dockerHost: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly dir: string,
    private readonly bridge: string,
    bridgeCidr: string,
    pool: string,
  ) {
    this.dockerHost = `unix://${dir}/docker.sock`;
    this.env = {
      ...process.env,
      FS_DOCKERD_DIR: dir,
      FS_DOCKERD_BRIDGE: bridge,
      FS_DOCKERD_BRIDGE_CIDR: bridgeCidr,
      FS_DOCKERD_POOL: pool,
      FS_DOCKERD_IPTABLES: 'false',
    };
  }

  /** Starts the daemon; returns once `docker info` answers. */
  start(): void {
    execFileSync(SCRIPT, ['start'], { env: this.env, stdio: ['ignore', 'ignore', 'inherit'] });
  }

  /**
   * Stops the daemon as a shutdown does (SIGTERM: it stops its containers first, which keep their
   * restart policy) and waits until it is gone.
   */
  stop(): void {
    execFileSync(SCRIPT, ['stop'], { env: this.env, stdio: ['ignore', 'ignore', 'inherit'] });
  }

  docker(...args: string[]): string {
    return execFileSync('docker', args, {
      env: { ...process.env, DOCKER_HOST: this.dockerHost },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Stops the daemon and removes everything it left: its directory and its bridge. */
  remove(): void {
    this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    if (existsSync(`/sys/class/net/${this.bridge}`)) {
      execFileSync('ip', ['link', 'delete', this.bridge], { stdio: 'ignore' });
    }
  }
}
