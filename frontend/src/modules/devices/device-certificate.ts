import type { Schemas } from '../../api/client';

export type DeviceAuthKind = Schemas['DeviceDto']['authKind'];

export const AUTH_KIND_CHOICES: { label: string; value: DeviceAuthKind }[] = [
  { label: 'Password', value: 'password' },
  { label: 'Certificate', value: 'certificate' },
  { label: 'Both', value: 'both' },
];

/** A certificate the API answered once (creation or renewal), for the device named. */
export interface IssuedCertificate {
  device: string;
  certificate: Schemas['CertificateBundleDto'];
}

/** The files of a certificate bundle as a device stores them; the key only when it was made here. */
export function certificateFiles(issued: IssuedCertificate): { filename: string; pem: string }[] {
  const { device, certificate } = issued;
  return [
    { filename: `${device}.crt`, pem: certificate.certificatePem },
    ...(certificate.privateKeyPem
      ? [{ filename: `${device}.key`, pem: certificate.privateKeyPem }]
      : []),
    { filename: 'ca.crt', pem: certificate.caCertificatePem },
  ];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** "expires in 12 days" / "expired": how the list shows a certificate's end; soon = under 30 days. */
export function certificateExpiry(
  expiresAt: string | null | undefined,
  now = Date.now(),
): { text: string; soon: boolean } | null {
  if (!expiresAt) return null;
  const days = Math.floor((new Date(expiresAt).getTime() - now) / DAY_MS);
  if (days < 0) return { text: 'expired', soon: true };
  return { text: days === 0 ? 'expires today' : `expires in ${days} d`, soon: days < 30 };
}

export const CSR_HINT =
  'Made on the device, so its private key never leaves it (e.g. openssl req -new -newkey ' +
  'ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -subj /CN=<name>). Key EC ' +
  'P-256 or RSA of at least 2048 bits; CN = the device name. Leave empty and Fieldstation makes ' +
  'the key pair and offers it once.';
