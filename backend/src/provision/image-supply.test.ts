import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const scratch = mkdtempSync(join(tmpdir(), 'fs-image-supply-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // The first build on a machine debootstraps a root (minutes); later runs load the cache.
  beforeAll(() => {
    supply = testImages();
  }, 900_000);

  it('ships the tarball and loads missing images, then changes nothing', async () => {
    // The stand-in images are shared with the platform tests running alongside, so this test
    // never removes them: it ships a tarball of its own tag, which the host then lacks.
    const probe = `fieldstation-test/supply-probe:${process.pid}`;
    const archive = join(scratch, 'supply-probe.tar');
    docker('tag', supply.images.node, probe);
    docker('save', '--output', archive, probe);
    docker('image', 'rm', probe);
    expect(present(probe)).toBe(false);
    const vars = {
      fieldstation_images_source: 'offline',
      fieldstation_images_archives: [archive],
      fieldstation_images_required: [...Object.values(supply.images), probe],
      fieldstation_images_docker_host: dockerHost,
    };

    try {
      const first = await runner.run({ playbook: 'supply-images.yml', target, vars });
      expect(first.totals).toMatchObject({ failures: 0, unreachable: 0 });
      expect(first.totals.changed).toBeGreaterThan(0);
      expect(present(probe)).toBe(true);

      const second = await runner.run({ playbook: 'supply-images.yml', target, vars });
      expect(second.totals).toMatchObject({ changed: 0, failures: 0 });
    } finally {
      if (present(probe)) docker('image', 'rm', probe);
    }
  }, 300_000);
});
