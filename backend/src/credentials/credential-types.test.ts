import { describe, expect, it } from 'vitest';
import { CREDENTIAL_TYPES } from './credential-types';

describe("an s3 credential's target address", () => {
  const host = CREDENTIAL_TYPES.s3.targetAddress!.host;

  it('is the host the SDK connects to: the endpoint path-style, the bucket under it otherwise', () => {
    expect(host('https://s3.example.org', { bucket: 'b1', pathStyle: true })).toBe(
      's3.example.org',
    );
    expect(host('https://s3.example.org', { bucket: 'b1' })).toBe('s3.example.org');
    // Review: a wildcard-DNS domain plus a bucket named after an address reached 127.0.0.1.
    expect(host('http://sslip.io', { bucket: 'x-127-0-0-1', pathStyle: false })).toBe(
      'x-127-0-0-1.sslip.io',
    );
  });
});
