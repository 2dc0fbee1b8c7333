import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { open, seal } from './secret-box';

/**
 * The server's own key: FIELDSTATION_SECRET, or 32 random bytes generated into the data dir
 * (mode 0600) on first start. It wraps the session and deployment-grant copies of users' data
 * keys, and signs tokens, each under its own HKDF-derived subkey.
 */
@Injectable()
export class ServerKey {
  private readonly wrappingKey: Buffer;
  readonly tokenSigningKey: Buffer;
  /** A stable, non-secret identifier of this key, for namespacing (e.g. rate-limit counters). */
  readonly id: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const root = config.serverSecret
      ? createHash('sha256').update(config.serverSecret).digest()
      : loadOrCreateKeyFile(join(config.dataDir, 'server.key'));
    this.wrappingKey = subkey(root, 'fieldstation/wrap-data-key');
    this.tokenSigningKey = subkey(root, 'fieldstation/sign-tokens');
    this.id = subkey(root, 'fieldstation/key-id').toString('hex').slice(0, 16);
  }

  wrap(dataKey: Buffer, context: string): string {
    return seal(this.wrappingKey, dataKey, context);
  }

  unwrap(wrapped: string, context: string): Buffer {
    return open(this.wrappingKey, wrapped, context);
  }
}

function subkey(root: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), info, 32));
}

function loadOrCreateKeyFile(file: string): Buffer {
  if (!existsSync(file)) {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    // 'wx' never overwrites: two processes starting at once keep whichever key was written first.
    try {
      writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte hex key`);
  return key;
}
