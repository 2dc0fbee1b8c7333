import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PROCESSOR_BUILD_FILES } from '@fieldstation/platform-stack';
import { AnsibleRunner } from '../ansible-runner';
import { PlatformHost } from '../platform-host';
import { SshClient } from '../ssh-client';
import { testDockerHost } from './test-ssh-host';

/**
 * A PlatformHost with the real playbooks, Ansible and the test dockerd, building the processor
 * from a snapshot of its build files: other work may rebuild dist/ while a suite runs, and a
 * re-launch must see the same build context to change nothing. `removeSnapshot` in afterAll.
 */
export function testPlatformHost(): { host: PlatformHost; removeSnapshot: () => void } {
  const processorSource = resolve(__dirname, '../../../../platform-stack/processor');
  const processorPackageDir = mkdtempSync(join(tmpdir(), 'fs-processor-build-'));
  for (const file of PROCESSOR_BUILD_FILES) {
    if (!existsSync(join(processorSource, file))) {
      throw new Error(`${file} is missing: npm run build -w @fieldstation/processor`);
    }
    mkdirSync(dirname(join(processorPackageDir, file)), { recursive: true });
    copyFileSync(join(processorSource, file), join(processorPackageDir, file));
  }
  const ssh = new SshClient();
  const host = new PlatformHost(
    new AnsibleRunner(ssh, { playbooksDir: resolve(__dirname, '../../../../playbooks') }),
    ssh,
    {
      processorPackageDir,
      dockerHost: testDockerHost(),
      // The test dockerd is not the host's docker service.
      manageDockerService: false,
      healthTimeoutSeconds: 240,
    },
  );
  return {
    host,
    removeSnapshot: () => rmSync(processorPackageDir, { recursive: true, force: true }),
  };
}
