import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../common/api-error';
import {
  deriveScrypt,
  MAX_CONCURRENT_DERIVATIONS,
  MAX_WAITING_DERIVATIONS,
  scryptLoad,
} from './scrypt';

describe('scrypt derivations', () => {
  it('run at most MAX_CONCURRENT_DERIVATIONS at once; the rest wait their turn', async () => {
    // Small parameters: the ceiling is what is tested, not the cost.
    const params = { N: 2 ** 10, r: 8, p: 1 };
    const burst = 3 * MAX_CONCURRENT_DERIVATIONS;
    const derivations = Array.from({ length: burst }, (_, i) =>
      deriveScrypt(`password ${i}`, randomBytes(16), params),
    );
    expect(scryptLoad()).toEqual({
      running: MAX_CONCURRENT_DERIVATIONS,
      waiting: burst - MAX_CONCURRENT_DERIVATIONS,
    });
    const keys = await Promise.all(derivations);
    expect(new Set(keys.map((key) => key.toString('hex'))).size).toBe(burst);
    expect(scryptLoad()).toEqual({ running: 0, waiting: 0 });
  });

  it('frees the slot of a derivation that fails', async () => {
    await expect(deriveScrypt('x', randomBytes(16), { N: 3, r: 8, p: 1 })).rejects.toThrow();
    expect(scryptLoad()).toEqual({ running: 0, waiting: 0 });
  });

  it('refuses at once (503 TOO_BUSY) instead of queueing without bound', async () => {
    const params = { N: 2 ** 10, r: 8, p: 1 };
    const admitted = Array.from(
      { length: MAX_CONCURRENT_DERIVATIONS + MAX_WAITING_DERIVATIONS },
      (_, i) => deriveScrypt(`password ${i}`, randomBytes(16), params),
    );
    const refused = await deriveScrypt('one too many', randomBytes(16), params).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).getStatus()).toBe(503);
    expect(scryptLoad().waiting).toBe(MAX_WAITING_DERIVATIONS);
    await Promise.all(admitted);
    expect(scryptLoad()).toEqual({ running: 0, waiting: 0 });
  });
});
