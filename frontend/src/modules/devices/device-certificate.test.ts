import { describe, expect, it } from 'vitest';
import { certificateExpiry, certificateFiles } from './device-certificate';

const bundle = {
  certificatePem: 'CERT',
  caCertificatePem: 'CA',
  expiresAt: '2027-12-02T08:00:00.000Z',
};

describe('device certificates in the UI', () => {
  it('offers the device key only when Fieldstation made it', () => {
    expect(
      certificateFiles({ device: 'pi-1', certificate: bundle }).map((f) => f.filename),
    ).toEqual(['pi-1.crt', 'ca.crt']);
    expect(
      certificateFiles({ device: 'pi-1', certificate: { ...bundle, privateKeyPem: 'KEY' } }),
    ).toEqual([
      { filename: 'pi-1.crt', pem: 'CERT' },
      { filename: 'pi-1.key', pem: 'KEY' },
      { filename: 'ca.crt', pem: 'CA' },
    ]);
  });

  it('shows the days left, soon under 30, and expired', () => {
    const now = Date.parse('2027-11-01T08:00:00.000Z');
    expect(certificateExpiry(bundle.expiresAt, now)).toEqual({
      text: 'expires in 31 d',
      soon: false,
    });
    expect(certificateExpiry(bundle.expiresAt, now + 2 * 86_400_000)).toEqual({
      text: 'expires in 29 d',
      soon: true,
    });
    expect(certificateExpiry(bundle.expiresAt, Date.parse(bundle.expiresAt) + 1)).toEqual({
      text: 'expired',
      soon: true,
    });
    expect(certificateExpiry(null)).toBeNull();
  });
});
