import { Injectable } from '@nestjs/common';
import { DataKey } from '../crypto/data-key';
import { legacyPassword } from '../crypto/legacy-password';
import { PasswordHasher } from '../crypto/password-hasher';
import { open, seal, SecretBoxError } from '../crypto/secret-box';
import type { User } from './user.entity';

type Credentials = Pick<User, 'passwordHash' | 'keySalt' | 'wrappedDataKey' | 'keyVersion'>;

/**
 * The password hash and the user's data key wrapped by a key derived from the password
 * (DESIGN §4), both from one scrypt derivation (PasswordHasher). Records of the legacy
 * two-derivation scheme are still opened; `legacy` says the caller should re-write them.
 */
@Injectable()
export class UserKeys {
  constructor(private readonly hasher: PasswordHasher) {}

  async seal(user: Pick<User, 'id'>, dataKey: DataKey, password: string, version: number) {
    const { passwordHash, keyEncryptionKey } = await this.hasher.derive(password);
    return {
      passwordHash,
      // Only legacy records have a second salt: the current scheme derives the KEK with the hash.
      keySalt: '',
      wrappedDataKey: seal(keyEncryptionKey, dataKey.bytes(), dataKeyContext(user.id, version)),
      keyVersion: version,
    } satisfies Credentials;
  }

  /** A record as the legacy scheme wrote it: for tests and the login benchmark only. */
  async sealLegacy(user: Pick<User, 'id'>, dataKey: DataKey, password: string, version: number) {
    const keySalt = legacyPassword.newKeySalt();
    const [passwordHash, kek] = await Promise.all([
      legacyPassword.hash(password),
      legacyPassword.keyEncryptionKey(password, keySalt),
    ]);
    const wrappedDataKey = seal(kek, dataKey.bytes(), dataKeyContext(user.id, version));
    return { passwordHash, keySalt, wrappedDataKey, keyVersion: version } satisfies Credentials;
  }

  /** The data key when the password is right, undefined otherwise. */
  async open(
    user: Pick<User, 'id'> & Credentials,
    password: string,
  ): Promise<{ dataKey: DataKey; legacy: boolean } | undefined> {
    if (legacyPassword.isLegacy(user.passwordHash)) {
      if (!(await legacyPassword.verify(password, user.passwordHash))) return undefined;
      const kek = await legacyPassword.keyEncryptionKey(password, user.keySalt);
      const dataKey = unwrap(user, kek);
      return dataKey && { dataKey, legacy: true };
    }
    const kek = await this.hasher.verify(password, user.passwordHash);
    const dataKey = kek && unwrap(user, kek);
    return dataKey && { dataKey, legacy: false };
  }
}

function unwrap(user: Pick<User, 'id'> & Credentials, kek: Buffer): DataKey | undefined {
  try {
    return DataKey.fromBytes(
      open(kek, user.wrappedDataKey, dataKeyContext(user.id, user.keyVersion)),
    );
  } catch (error) {
    if (error instanceof SecretBoxError) return undefined;
    throw error;
  }
}

function dataKeyContext(userId: string, version: number): string {
  return `user:${userId}:data-key:v${version}`;
}
