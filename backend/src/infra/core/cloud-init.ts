import { SSH_USER } from './ports';

/** Written when cloud-init has finished; the provisioning step waits for it before Ansible. */
export const READY_MARKER = '/var/lib/fieldstation/cloud-init-ready';

export interface CloudInitOptions {
  platformId: string;
  sshPublicKey: string;
}

/**
 * User data that makes a fresh Ubuntu VM ready for Ansible: a sudo user with the user's key,
 * python3, and a readiness marker plus a console line once everything ran. Serialised as
 * JSON (valid YAML) so no value is ever spliced into YAML text.
 */
export function buildCloudInit({ platformId, sshPublicKey }: CloudInitOptions): string {
  const config = {
    users: [
      'default',
      {
        name: SSH_USER,
        groups: ['sudo'],
        shell: '/bin/bash',
        sudo: 'ALL=(ALL) NOPASSWD:ALL',
        lock_passwd: true,
        ssh_authorized_keys: [sshPublicKey],
      },
    ],
    ssh_pwauth: false,
    package_update: true,
    packages: ['python3', 'python3-apt'],
    write_files: [
      { path: '/etc/fieldstation/platform-id', content: `${platformId}\n`, permissions: '0644' },
    ],
    // Array form: cloud-init executes these without a shell.
    runcmd: [
      ['mkdir', '-p', '/var/lib/fieldstation'],
      ['touch', READY_MARKER],
    ],
    final_message: `fieldstation-ready platform=${platformId} after $UPTIME s`,
  };
  return `#cloud-config\n${JSON.stringify(config, null, 2)}\n`;
}
