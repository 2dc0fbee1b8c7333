import { describe, expect, it } from 'vitest';
import { buildCloudInit, READY_MARKER } from './cloud-init';

describe('buildCloudInit', () => {
  it('prepares the VM for Ansible and reports readiness', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAbc user@host';
    const text = buildCloudInit({ platformId: 'p-1', sshPublicKey: key });
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    const config = JSON.parse(text.slice('#cloud-config\n'.length)) as {
      users: (string | { name: string; ssh_authorized_keys: string[]; sudo: string })[];
      packages: string[];
      runcmd: string[][];
      final_message: string;
    };
    expect(config.users[1]).toMatchObject({ name: 'fieldstation', ssh_authorized_keys: [key] });
    expect(config.packages).toContain('python3');
    expect(config.runcmd).toContainEqual(['touch', READY_MARKER]);
    expect(config.final_message).toContain('fieldstation-ready platform=p-1');
  });
});
