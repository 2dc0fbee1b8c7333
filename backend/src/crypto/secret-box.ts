import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';

export class SecretBoxError extends Error {}

/**
 * AES-256-GCM with a fresh 12-byte IV per message. The AAD binds a ciphertext to where it is
 * stored (entity id + field name, user id + key version, …), so a sealed value copied into
 * another row or field fails to open. Format: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
 */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): string {
  if (key.length !== 32) throw new SecretBoxError('seal needs a 32-byte key');
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || ciphertext === undefined) {
    throw new SecretBoxError('Not a sealed value');
  }
  try {
    const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
  } catch {
    throw new SecretBoxError('Sealed value does not open with this key and context');
  }
}

export function openString(key: Buffer, sealed: string, aad: string): string {
  return open(key, sealed, aad).toString('utf8');
}
