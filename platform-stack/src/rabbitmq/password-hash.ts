import { createHash, randomBytes } from 'node:crypto';

/**
 * RabbitMQ's `rabbit_password_hashing_sha256`: base64(salt ‖ SHA-256(salt ‖ password)) with a
 * 4-byte random salt. Definitions files then hold hashes, never the passwords themselves.
 */
export function hashRabbitPassword(password: string, salt: Buffer = randomBytes(4)): string {
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}
