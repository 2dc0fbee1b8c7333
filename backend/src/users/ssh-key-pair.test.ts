import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateSshKeyPair } from './ssh-key-pair';

describe('generateSshKeyPair', () => {
  it('makes only pairs that ssh2 reads back, with a matching public key', () => {
    // ssh2's generator spoils about 1 pair in 200 (a dropped leading zero byte): 2,000 pairs
    // would all but surely include one.
    for (let i = 0; i < 2_000; i++) {
      const pair = generateSshKeyPair(`user-${i}@fieldstation`);
      const parsed = utils.parseKey(pair.privateKey);
      if (parsed instanceof Error || Array.isArray(parsed)) throw new Error(`pair ${i}: ${parsed}`);
      expect(parsed.getPublicSSH().toString('base64')).toBe(pair.publicKey.split(' ')[1]);
    }
  });

  it('makes a private key OpenSSH reads, whose public key is the one shown', () => {
    const pair = generateSshKeyPair('owner@fieldstation');
    const dir = mkdtempSync(join(tmpdir(), 'fs-ssh-key-'));
    try {
      const file = join(dir, 'id_ed25519');
      writeFileSync(file, pair.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' });
      expect(derived.split(' ').slice(0, 2)).toEqual(pair.publicKey.split(' ').slice(0, 2));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
