import { createHash } from 'node:crypto';
import { utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH `ssh-ed25519 AAAA… comment` line. */
  publicKey: string;
  /** OpenSSH PEM private key, as ssh and Ansible read it. */
  privateKey: string;
}

export function generateSshKeyPair(comment: string): SshKeyPair {
  const pair = utils.generateKeyPairSync('ed25519', { comment });
  return { publicKey: pair.public.trim(), privateKey: pair.private };
}

/** `SHA256:…` as `ssh-keygen -lf` prints it. */
export function sshFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
