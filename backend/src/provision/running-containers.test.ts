import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnsibleRunner } from './ansible-runner';
import { PlatformHost } from './platform-host';
import { SshClient, type SshSession } from './ssh-client';
import { testDockerHost, testImages, testSshTarget } from './testing/test-ssh-host';

function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    env: { ...process.env, DOCKER_HOST: testDockerHost() },
    encoding: 'utf8',
  }).trim();
}

/**
 * PlatformHost.runningContainers, which the processor's figures, its debugging and the database's
 * readings and dumps all use to find a service's container: over the real test sshd, with
 * containers labelled as compose labels a platform's in the test dockerd.
 */
describe('PlatformHost.runningContainers over SSH (real sshd and dockerd)', () => {
  const ssh = new SshClient();
  const host = new PlatformHost(new AnsibleRunner(ssh, { playbooksDir: tmpdir() }), ssh, {
    processorPackageDir: tmpdir(),
    dockerHost: testDockerHost(),
  });
  const project = host.layout(`rc-${randomUUID().slice(0, 8)}`).composeProject;
  const otherProject = `${project}-other`;
  const created: string[] = [];
  let session: SshSession;

  /** A container labelled as compose labels one of `composeProject`'s services; started or not. */
  const container = (composeProject: string, service: string, started: boolean): string => {
    const id = docker(
      started ? 'run' : 'create',
      ...(started ? ['--detach'] : []),
      '--label',
      `com.docker.compose.project=${composeProject}`,
      '--label',
      `com.docker.compose.service=${service}`,
      '--entrypoint',
      'sleep',
      testImages().images.node!,
      'infinity',
    );
    created.push(id);
    return id;
  };

  beforeAll(async () => {
    session = await ssh.connect(testSshTarget());
  });
  afterAll(() => {
    session?.close();
    if (created.length > 0) docker('rm', '--force', ...created);
  });

  it('finds the running container of each service of the platform, and no other', async () => {
    const processor = container(project, 'processor', true);
    const database = container(project, 'database', true);
    container(project, 'processor', false);
    container(otherProject, 'processor', true);

    const ids = async (service: 'processor' | 'database') =>
      (await host.runningContainers(session, project, service)).map((id) => id.slice(0, 12));
    expect(await ids('processor')).toEqual([processor.slice(0, 12)]);
    expect(await ids('database')).toEqual([database.slice(0, 12)]);

    docker('stop', '--time', '0', processor);
    expect(await ids('processor')).toEqual([]);
  });
});
