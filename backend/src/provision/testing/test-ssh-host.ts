import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/**
 * The stand-in images of scripts/build-test-images.sh, loaded into the test dockerd. Uses the
 * exported values when test.sh provided them, else runs the (cached) script.
 */
export function testImages(): { archive: string; images: Record<string, string> } {
  let exported = process.env;
  if (!process.env.FS_TEST_IMAGES_TAR) {
    const script = resolve(__dirname, '../../../../scripts/build-test-images.sh');
    const output = execFileSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    exported = Object.fromEntries(
      [...output.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1], match[2]]),
    );
  }
  const archive = exported.FS_TEST_IMAGES_TAR;
  if (!archive) throw new Error('scripts/build-test-images.sh printed no FS_TEST_IMAGES_TAR');
  const images: Record<string, string> = {};
  for (const name of ['rabbitmq', 'postgres', 'influxdb', 'grafana', 'node']) {
    const image = exported[`FS_TEST_IMAGE_${name.toUpperCase()}`];
    if (!image) throw new Error(`scripts/build-test-images.sh printed no image for ${name}`);
    images[name] = image;
  }
  return { archive, images };
}
