import { randomBytes } from 'node:crypto';
import { open, seal } from './secret-box';

/** A user's data key (DEK): seals every secret field of that user's records. */
export class DataKey {
  private constructor(private readonly key: Buffer) {}

  static generate(): DataKey {
    return new DataKey(randomBytes(32));
  }

  static fromBytes(bytes: Buffer): DataKey {
    if (bytes.length !== 32) throw new Error('A data key is 32 bytes');
    return new DataKey(bytes);
  }

  /** Raw bytes, only for wrapping under another key. */
  bytes(): Buffer {
    return this.key;
  }

  /** Seals one field of one record: AAD = record id + field name (DESIGN §4). */
  sealField(recordId: string, field: string, value: string): string {
    return seal(this.key, value, `${recordId}:${field}`);
  }

  openField(recordId: string, field: string, sealed: string): string {
    return open(this.key, sealed, `${recordId}:${field}`).toString('utf8');
  }
}
