import { hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { deriveScrypt, SCRYPT_PARAMS } from './scrypt';

/** `scrypt-hkdf$N$r$p$salt$verifier`: one scrypt derivation, split by HKDF (DESIGN §4). */
const SCHEME = 'scrypt-hkdf';
const VERIFIER_INFO = 'fieldstation password verifier v1';
const KEY_ENCRYPTION_KEY_INFO = 'fieldstation key-encryption key v1';

export interface PasswordDerivation {
  /** Stored: identifies the scheme and its parameters, proves the password. */
  passwordHash: string;
  /** Never stored: wraps the user's data key. */
  keyEncryptionKey: Buffer;
}

function split(master: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32));
}

/**
 * One scrypt derivation per password check: HKDF splits its output into a verifier (stored in
 * the password hash) and the key-encryption key (never stored). The two HKDF labels make them
 * independent, so the stored verifier says nothing about the key that wraps the data key, and a
 * login costs one memory-hard derivation instead of two. Records of the earlier two-derivation
 * scheme are read by legacy-password.ts until their owner's next login upgrades them.
 */
@Injectable()
export class PasswordHasher {
  async derive(password: string): Promise<PasswordDerivation> {
    const salt = randomBytes(16);
    const master = await deriveScrypt(password, salt);
    const { N, r, p } = SCRYPT_PARAMS;
    const verifier = split(master, VERIFIER_INFO);
    return {
      passwordHash: [
        SCHEME,
        N,
        r,
        p,
        salt.toString('base64url'),
        verifier.toString('base64url'),
      ].join('$'),
      keyEncryptionKey: split(master, KEY_ENCRYPTION_KEY_INFO),
    };
  }

  /** True for records of this scheme; anything else is a legacy record (or no password). */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`${SCHEME}$`);
  }

  /** The key-encryption key when the password is right; undefined otherwise. */
  async verify(password: string, stored: string): Promise<Buffer | undefined> {
    const [scheme, N, r, p, salt, expected] = stored.split('$');
    if (scheme !== SCHEME || !salt || !expected) return undefined;
    const params = { N: Number(N), r: Number(r), p: Number(p), maxmem: SCRYPT_PARAMS.maxmem };
    const master = await deriveScrypt(password, Buffer.from(salt, 'base64url'), params);
    const verifier = split(master, VERIFIER_INFO);
    const stored32 = Buffer.from(expected, 'base64url');
    if (stored32.length !== verifier.length || !timingSafeEqual(verifier, stored32))
      return undefined;
    return split(master, KEY_ENCRYPTION_KEY_INFO);
  }
}
