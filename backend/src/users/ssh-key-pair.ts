import { createHash } from 'node:crypto';
import { utils } from 'ssh2';

export interface SshKeyPair {
  /** OpenSSH `ssh-ed25519 AAAA… comment` line. */
  publicKey: string;
  /** OpenSSH PEM private key, as ssh and Ansible read it. */
  privateKey: string;
}

export function generateSshKeyPair(comment: string): SshKeyPair {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    // ssh2 drops a leading zero byte of the key (about 1 pair in 200), which neither ssh2 nor
    // OpenSSH can read back: such a pair is drawn again.
    const privateKey = utils.parseKey(pair.private);
    const publicKey = utils.parseKey(pair.public);
    if (readable(privateKey) && readable(publicKey)) {
      return { publicKey: pair.public.trim(), privateKey: pair.private };
    }
  }
}

function readable(key: ReturnType<typeof utils.parseKey>): boolean {
  return !(key instanceof Error) && !Array.isArray(key);
}

/** `SHA256:…` as `ssh-keygen -lf` prints it. */
export function sshFingerprint(publicKey: string): string {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
