import { randomBytes, timingSafeEqual } from 'node:crypto';
import { deriveScrypt, SCRYPT_PARAMS } from './scrypt';

/**
 * The first password scheme, kept only to read records written before one-derivation logins:
 * `scrypt$N$r$p$salt$hash` in passwordHash, and the key-encryption key from a second scrypt
 * derivation with its own salt (users.keySalt). A successful login upgrades such a record to
 * PasswordHasher's scheme. Writing is here too, so tests can create a record as it was.
 */
export const legacyPassword = {
  isLegacy(stored: string): boolean {
    return stored.startsWith('scrypt$');
  },

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await deriveScrypt(password, salt);
    const { N, r, p } = SCRYPT_PARAMS;
    return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  },

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, N, r, p, salt, expected] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !expected) return false;
    const params = { N: Number(N), r: Number(r), p: Number(p), maxmem: SCRYPT_PARAMS.maxmem };
    const key = await deriveScrypt(password, Buffer.from(salt, 'base64url'), params);
    const expectedKey = Buffer.from(expected, 'base64url');
    return expectedKey.length === key.length && timingSafeEqual(key, expectedKey);
  },

  newKeySalt(): string {
    return randomBytes(16).toString('base64url');
  },

  /** KEK = scrypt(password, keySalt). */
  keyEncryptionKey(password: string, keySalt: string): Promise<Buffer> {
    return deriveScrypt(password, Buffer.from(keySalt, 'base64url'));
  },
};
