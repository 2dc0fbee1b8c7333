import { Injectable } from '@nestjs/common';
import { DataKey } from '../crypto/data-key';
import { PasswordHasher } from '../crypto/password-hasher';
import { open, seal, SecretBoxError } from '../crypto/secret-box';
import type { User } from './user.entity';

type Envelope = Pick<User, 'keySalt' | 'wrappedDataKey' | 'keyVersion'>;

/** The user's data key wrapped by a key derived from the password (DESIGN §4). */
@Injectable()
export class UserKeys {
  constructor(private readonly hasher: PasswordHasher) {}

  async wrap(user: Pick<User, 'id'>, dataKey: DataKey, password: string, version: number) {
    const keySalt = this.hasher.newKeySalt();
    const kek = await this.hasher.keyEncryptionKey(password, keySalt);
    const wrappedDataKey = seal(kek, dataKey.bytes(), context(user.id, version));
    return { keySalt, wrappedDataKey, keyVersion: version } satisfies Envelope;
  }

  /** Returns undefined when the password does not unwrap the key. */
  async unwrap(user: Pick<User, 'id'> & Envelope, password: string): Promise<DataKey | undefined> {
    const kek = await this.hasher.keyEncryptionKey(password, user.keySalt);
    try {
      return DataKey.fromBytes(open(kek, user.wrappedDataKey, context(user.id, user.keyVersion)));
    } catch (error) {
      if (error instanceof SecretBoxError) return undefined;
      throw error;
    }
  }
}

function context(userId: string, version: number): string {
  return `user:${userId}:data-key:v${version}`;
}
