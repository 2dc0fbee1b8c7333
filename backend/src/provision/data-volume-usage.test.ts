import { statfsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDataVolumeUsage } from './data-volume-usage';
import { SshClient } from './ssh-client';
import { testPlatformHost } from './testing/test-platform-host';
import { testSshTarget } from './testing/test-ssh-host';

describe('the data volume figure of the health check', () => {
  it('parses df --output=size,used,avail in bytes', () => {
    const output = '     1B-blocks        Used       Avail\n10000000000  8600000000  1000000000\n';
    expect(parseDataVolumeUsage(output)).toEqual({
      // 8.6 GB used of the 9.6 GB an unprivileged writer can use (the rest is root's reserve).
      usedPercent: 89.6,
      bytesFree: 1_000_000_000,
      bytesTotal: 10_000_000_000,
    });
  });

  it.each([
    ['', 'nothing'],
    ['Filesystem 1K-blocks Used Available Use% Mounted on\n/dev/vda 10 5 5 50% /\n', 'plain df'],
    ['1B-blocks Used Avail\n10 x 5\n', 'not a number'],
    ['1B-blocks Used Avail\n10 5 5\n10 5 5\n', 'two filesystems'],
  ])('refuses output of another shape (%#: %s)', (output) => {
    expect(parseDataVolumeUsage(output)).toBeNull();
  });
});

/**
 * Over the real SSH test host, which is this machine: the health check's `status()` reports the
 * use of the filesystem holding the platform's data path, the figure `statfs` gives here.
 */
describe('the data volume figure, read over SSH', () => {
  const { host, removeSnapshot } = testPlatformHost();
  const target = testSshTarget();
  const platformId = `disk-${Date.now().toString(36)}`;
  const { dataPath, platformDir } = host.layout(platformId);
  const ssh = new SshClient();

  const onHost = async (command: string[]) => {
    const session = await ssh.connect(target);
    try {
      await session.run(command);
    } finally {
      session.close();
    }
  };

  beforeAll(() => onHost(['sudo', '-n', 'mkdir', '-p', dataPath]));
  afterAll(async () => {
    await onHost(['sudo', '-n', 'rm', '-rf', platformDir]);
    removeSnapshot();
  });

  it('is in the status of a platform, from the same SSH connection as the containers', async () => {
    const status = await host.status({ platformId, target });
    const local = statfsSync(dataPath);
    expect(status.services).toEqual([]);
    expect(status.disk).not.toBeNull();
    expect(status.disk?.bytesTotal).toBe(local.blocks * local.bsize);
    // Other work writes to this disk meanwhile: close, not equal.
    expect(Math.abs((status.disk?.bytesFree ?? 0) - local.bavail * local.bsize)).toBeLessThan(
      1_000_000_000,
    );
    const used = (local.blocks - local.bfree) * local.bsize;
    const expectedPercent = (used / (used + local.bavail * local.bsize)) * 100;
    expect(Math.abs((status.disk?.usedPercent ?? 0) - expectedPercent)).toBeLessThan(1);
  });

  it('is null when the data path does not exist, and the rest of the status still comes', async () => {
    const status = await host.status({ platformId: `${platformId}-none`, target });
    expect(status.disk).toBeNull();
    expect(status.services).toEqual([]);
  });
});
