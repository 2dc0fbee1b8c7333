import { describe, expect, it } from 'vitest';
import { generateSecret } from '../src/spec/stack-spec';

describe('generateSecret', () => {
  it('makes 32 URL-safe characters that never start with - or _ (a spreadsheet formula)', () => {
    // With a leading - or _ allowed, 1 in 32 would start so: 2,000 draws would all but surely show one.
    const secrets = Array.from({ length: 2_000 }, generateSecret);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{31}$/);
    expect(new Set(secrets).size).toBe(secrets.length);
  });
});
