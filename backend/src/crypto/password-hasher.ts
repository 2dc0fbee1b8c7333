import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Injectable } from '@nestjs/common';

/** DESIGN §4: N=2^17, r=8, p=1, maxmem 256 MiB; async so hashing never blocks the event loop. */
const PARAMS = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 } as const;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: ScryptOptions = PARAMS): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, params, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/**
 * Password hashes and password-derived key-encryption keys. The two use separate salts, so the
 * stored hash says nothing about the key that wraps the user's data key.
 */
@Injectable()
export class PasswordHasher {
  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await derive(password, salt);
    const { N, r, p } = PARAMS;
    return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  async verify(password: string, stored: string): Promise<boolean> {
    const [scheme, N, r, p, salt, expected] = stored.split('$');
    if (scheme !== 'scrypt' || !salt || !expected) return false;
    const params = { N: Number(N), r: Number(r), p: Number(p), maxmem: PARAMS.maxmem };
    const key = await derive(password, Buffer.from(salt, 'base64url'), params);
    return timingSafeEqual(key, Buffer.from(expected, 'base64url'));
  }

  newKeySalt(): string {
    return randomBytes(16).toString('base64url');
  }

  /** KEK = scrypt(password, keySalt): unwraps the user's data key, never stored. */
  keyEncryptionKey(password: string, keySalt: string): Promise<Buffer> {
    return derive(password, Buffer.from(keySalt, 'base64url'));
  }
}
