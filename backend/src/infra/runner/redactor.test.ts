import { describe, expect, it } from 'vitest';
import { parseTerraformLine } from './infra-log-entry';
import { Redactor } from './redactor';
import { fakePemPrivateKey } from '../../../test/fixtures/fake-credentials';

describe('Redactor', () => {
  it('scrubs raw values, JSON-escaped values and string leaves of JSON credentials', () => {
    const serviceAccount = JSON.stringify({
      type: 'service_account',
      private_key: fakePemPrivateKey('FAKEKEY123'),
    });
    const redactor = new Redactor(['AKIAFAKEFAKE1234', serviceAccount, 'abc']);
    expect(redactor.redact('key AKIAFAKEFAKE1234 used')).toBe('key *** used');
    expect(
      redactor.redact(`pk: ${JSON.stringify(fakePemPrivateKey('FAKEKEY123')).slice(1, -1)}`),
    ).toBe('pk: ***');
    expect(redactor.redact(`creds=${serviceAccount}`)).toBe('creds=***');
    // Values too short to be secrets are left alone rather than blanking ordinary words.
    expect(redactor.redact('abc')).toBe('abc');
  });
});

describe('parseTerraformLine', () => {
  it('keeps output names but drops output values', () => {
    const entry = parseTerraformLine(
      JSON.stringify({
        '@level': 'info',
        '@message': 'Outputs: 2',
        type: 'outputs',
        outputs: {
          ip: { sensitive: false, value: '203.0.113.9' },
          pw: { sensitive: true, value: 'hunter2!' },
        },
      }),
    );
    expect(entry.message).toBe('Outputs: ip, pw (sensitive)');
    expect(JSON.stringify(entry)).not.toContain('hunter2');
  });

  it('turns non-JSON lines into plain stdout entries', () => {
    expect(parseTerraformLine('panic: oh no')).toMatchObject({
      type: 'stdout',
      level: 'info',
      message: 'panic: oh no',
    });
  });
});
