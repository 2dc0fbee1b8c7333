import { readFileSync } from 'node:fs';
import { fingerprintOf, type SshTarget } from '../ssh-client';

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: start the test SSH host with ` +
        `eval "$(scripts/services/sshd.sh start)" (scripts/test.sh does this)`,
    );
  }
  return value;
}

/** The private sshd of scripts/services/sshd.sh, with its host key pinned. */
export function testSshTarget(): SshTarget {
  const hostPublicKey = readFileSync(requiredEnv('FS_TEST_SSH_HOST_PUBLIC_KEY_FILE'), 'utf8');
  return {
    host: requiredEnv('FS_TEST_SSH_HOST'),
    port: Number(requiredEnv('FS_TEST_SSH_PORT')),
    username: requiredEnv('FS_TEST_SSH_USER'),
    privateKey: readFileSync(requiredEnv('FS_TEST_SSH_KEY_FILE'), 'utf8'),
    hostKeyFingerprint: fingerprintOf(Buffer.from(hostPublicKey.split(' ')[1], 'base64')),
  };
}

/** The private dockerd of scripts/services/dockerd.sh, as a DOCKER_HOST value. */
export function testDockerHost(): string {
  return requiredEnv('FS_TEST_DOCKER_HOST');
}
