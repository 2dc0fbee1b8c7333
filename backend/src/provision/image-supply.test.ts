import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AnsibleRunner } from './ansible-runner';
import { SshClient } from './ssh-client';
import { testDockerHost, testImages, testSshTarget } from './testing/test-ssh-host';

const runner = new AnsibleRunner(new SshClient(), {
  playbooksDir: resolve(__dirname, '../../../playbooks'),
});
const target = testSshTarget();
const dockerHost = testDockerHost();

function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    env: { ...process.env, DOCKER_HOST: dockerHost },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

function present(image: string): boolean {
  try {
    docker('image', 'inspect', image);
    return true;
  } catch {
    return false;
  }
}

describe('offline image supply (supply-images.yml) with real Ansible and Docker', () => {
  let supply: ReturnType<typeof testImages>;

  // The first build on a machine debootstraps a root (minutes); later runs load the cache.
  beforeAll(() => {
    supply = testImages();
  }, 900_000);

  it('ships the tarball and loads missing images, then changes nothing', async () => {
    const required = Object.values(supply.images);
    // Start from a host without the images, as a fresh air-gapped VM is: removing by id drops
    // every tag of the shared root, so the load below really loads the layers.
    const ids = new Set(
      required
        .filter(present)
        .map((image) => docker('image', 'inspect', '--format', '{{.Id}}', image).trim()),
    );
    if (ids.size > 0) docker('image', 'rm', '--force', ...ids);
    expect(required.filter(present)).toEqual([]);
    const vars = {
      fieldstation_images_source: 'offline',
      fieldstation_images_archives: [supply.archive],
      fieldstation_images_required: required,
      fieldstation_images_docker_host: dockerHost,
    };

    const first = await runner.run({ playbook: 'supply-images.yml', target, vars });
    expect(first.totals).toMatchObject({ failures: 0, unreachable: 0 });
    expect(first.totals.changed).toBeGreaterThan(0);
    expect(required.filter(present)).toEqual(required);

    const second = await runner.run({ playbook: 'supply-images.yml', target, vars });
    expect(second.totals).toMatchObject({ changed: 0, failures: 0 });
  }, 300_000);
});
