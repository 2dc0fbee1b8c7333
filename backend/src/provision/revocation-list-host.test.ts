import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createCertificateAuthority,
  createRevocationList,
  revocationListStackPath,
} from '@fieldstation/platform-stack';
import { afterAll, describe, expect, it } from 'vitest';
import { AnsibleRunner } from './ansible-runner';
import { PlatformHost } from './platform-host';
import { SshClient } from './ssh-client';
import { testSshTarget } from './testing/test-ssh-host';

/**
 * Replacing a platform's revocation list over SSH (the real test sshd, its user a sudoer as on a
 * platform's host): the file lands in the root-owned stack directory, owned by root and readable
 * by the broker's user, with nothing left beside it; a second write replaces the first.
 */
describe('PlatformHost.writeRevocationList over SSH', () => {
  const hostRoot = mkdtempSync(join(tmpdir(), 'fs-crl-host-'));
  const ssh = new SshClient();
  const host = new PlatformHost(new AnsibleRunner(ssh, { playbooksDir: tmpdir() }), ssh, {
    hostRoot,
    processorPackageDir: tmpdir(),
  });
  afterAll(() => rmSync(hostRoot, { recursive: true, force: true }));

  it('writes the list beside the old one and renames it over, root-owned and world-readable', async () => {
    const platformId = randomUUID();
    const ca = await createCertificateAuthority('plant');
    const path = join(host.layout(platformId).stackDir, revocationListStackPath(ca.certificatePem));
    const empty = await createRevocationList(ca, []);
    await host.writeRevocationList(testSshTarget(), platformId, ca.certificatePem, empty);
    expect(readFileSync(path, 'utf8')).toBe(empty);
    const stat = statSync(path);
    expect([stat.uid, stat.mode & 0o777]).toEqual([0, 0o644]);

    const listing = await createRevocationList(ca, [
      { serialNumber: '0a1b2c', revokedAt: new Date() },
    ]);
    await host.writeRevocationList(testSshTarget(), platformId, ca.certificatePem, listing);
    expect(readFileSync(path, 'utf8')).toBe(listing);
    expect(readdirSync(join(path, '..'))).toEqual([path.split('/').at(-1)]);
    expect(existsSync(`${path}.new`)).toBe(false);
  });
});
