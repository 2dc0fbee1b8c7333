import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleRunner } from './ansible-runner';
import { PlatformHost } from './platform-host';
import { SshClient } from './ssh-client';
import { waitFor } from './testing/platform-probes';
import { testDockerHost, testImages, testSshTarget } from './testing/test-ssh-host';

function docker(args: string[], input?: string): string {
  return execFileSync('docker', args, {
    env: { ...process.env, DOCKER_HOST: testDockerHost() },
    encoding: 'utf8',
    input,
  }).trim();
}

const CLIMATE_READINGS = 3000;
const DOOR_READINGS = 2000;
const FIRST_MS = Date.parse('2026-11-30T00:00:00Z');

/**
 * The InfluxDB restore drill for real, without launching a whole platform: a container of the
 * test InfluxDB image labelled as a platform's `database` service (auth on, as the stack runs it),
 * filled with readings, dumped by dump.yml (Ansible over the test sshd, `influxd backup
 * -portable` and tar, as a scheduled backup's dump step), then PlatformHost.restoreDrill loads
 * that dump file on the host into a scratch container and counts what it holds.
 */
describe('PlatformHost.restoreDrill of an InfluxDB dump (real sshd, Ansible, Docker, influxd)', () => {
  const ssh = new SshClient();
  const host = new PlatformHost(
    new AnsibleRunner(ssh, { playbooksDir: resolve(__dirname, '../../../playbooks') }),
    ssh,
    { processorPackageDir: tmpdir(), dockerHost: testDockerHost(), manageDockerService: false },
  );
  const target = testSshTarget();
  const platformId = `drill-${randomUUID().slice(0, 8)}`;
  const layout = host.layout(platformId);
  const adminPassword = randomBytes(12).toString('hex');
  let database = '';
  let dumpPath = '';

  const scratchContainers = () =>
    docker(['ps', '--all', '--quiet', '--filter', `label=fieldstation.drill-of=${platformId}`]);
  const drill = (dumpPath: string) => {
    const log: string[] = [];
    const figures = host.restoreDrill({
      platformId,
      target,
      database: 'influxdb',
      dumpPath,
      log: async (message) => void log.push(message),
    });
    return { figures, log };
  };

  beforeAll(async () => {
    database = docker([
      'run',
      '--detach',
      '--label',
      `com.docker.compose.project=${layout.composeProject}`,
      '--label',
      'com.docker.compose.service=database',
      '--env',
      'INFLUXDB_DB=telemetry',
      '--env',
      'INFLUXDB_HTTP_AUTH_ENABLED=true',
      '--env',
      'INFLUXDB_ADMIN_USER=admin',
      '--env',
      `INFLUXDB_ADMIN_PASSWORD=${adminPassword}`,
      testImages().images.influxdb!,
    ]);
    // Readings as the processor writes them: a measurement, a device tag, one field per entry.
    const lines = ['# DML', '# CONTEXT-DATABASE: telemetry'];
    for (let i = 0; i < CLIMATE_READINGS; i += 1) {
      lines.push(
        `climate,device=room-${i % 3} temperature=${20 + (i % 7)}.5,humidity=40.0 ${FIRST_MS + i * 1000}`,
      );
    }
    for (let i = 0; i < DOOR_READINGS; i += 1) {
      lines.push(`door,device=front open=${i % 2 === 0} ${FIRST_MS + i * 1000 + 250}`);
    }
    docker(
      ['exec', '--interactive', database, 'sh', '-c', 'cat > /tmp/readings.txt'],
      `${lines.join('\n')}\n`,
    );
    const influx = (authenticated: boolean, ...args: string[]) =>
      docker([
        'exec',
        ...(authenticated
          ? ['--env', 'INFLUX_USERNAME=admin', '--env', `INFLUX_PASSWORD=${adminPassword}`]
          : []),
        database,
        'influx',
        '-host',
        '127.0.0.1',
        ...args,
      ]);
    const answers = (authenticated: boolean) => {
      try {
        influx(authenticated, '-execute', 'SHOW DATABASES');
        return true;
      } catch {
        return false;
      }
    };
    // The image's first start runs influxd without auth to create the database and the admin
    // user, then restarts it with auth: wait for the second one.
    await waitFor(
      'influxd with auth',
      () => answers(true) && !answers(false),
      (ready) => ready,
    );
    // Exits non-zero unless every point was written.
    influx(true, '-import', '-path=/tmp/readings.txt', '-precision=ms');
    const dumped = await host.dump({ platformId, target, database: 'influxdb' });
    dumpPath = dumped.remotePath;
  }, 300_000);

  afterAll(async () => {
    if (database) docker(['rm', '--force', '--volumes', database]);
    const session = await ssh.connect(target);
    try {
      await session.run(['sudo', '-n', 'rm', '-rf', layout.platformDir]);
    } finally {
      session.close();
    }
  }, 120_000);

  it("restores the dump into a scratch container from the database's image and counts every reading and the newest one's time; nothing is left behind", async () => {
    const { figures, log } = drill(dumpPath);
    expect(await figures).toEqual({
      readingsCount: CLIMATE_READINGS + DOOR_READINGS,
      // The newest is climate's last (door's stop earlier): the newest over all measurements.
      newestReadingAt: new Date(FIRST_MS + (CLIMATE_READINGS - 1) * 1000).toISOString(),
    });
    const image = docker(['inspect', '--format', '{{.Config.Image}}', database]);
    expect(log.join('\n')).toContain(`from ${image}`);
    expect(log.join('\n')).toMatch(/Starting scratch container fs-drill-[0-9a-f-]{36} /);
    expect(log.join('\n')).toContain(
      'Loading the verified dump on the host into influxd restore -portable in the scratch container',
    );
    expect(scratchContainers()).toBe('');
  }, 300_000);

  it('fails on a dump that is not one, with the loader’s error, and removes the scratch container', async () => {
    const notADump = await host.openDrillUpload(target, platformId, 64 * 1024);
    await pipeline(Readable.from([randomBytes(64 * 1024)]), notADump.stream);
    const { figures } = drill(notADump.path);
    await expect(figures).rejects.toThrow(/tar: /);
    expect(scratchContainers()).toBe('');
    await notADump.discard();
  }, 300_000);

  it('refuses a dump the host has no room for, before anything is written', async () => {
    // A manifest (from the bucket, not trusted) may claim any size: a petabyte here.
    await expect(host.openDrillUpload(target, platformId, 2 ** 50)).rejects.toThrow(
      /^The host has \d+ MiB free in \S+\/dumps; the dump needs 1073741824 MiB and 256 MiB stay free/,
    );
    // The test host is this machine: the file was never opened.
    expect(existsSync(`${layout.dumpsDir}/drill-upload`)).toBe(false);
  }, 60_000);
});
