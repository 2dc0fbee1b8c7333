// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { createHash, createPublicKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;

// Node's WebCrypto implementation; the library's type expects the DOM's `Crypto`.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = {
  name: 'ECDSA',
  namedCurve: 'P-256',
  hash: 'SHA-256',
};
const DAY_MS = 24 * 60 * 60 * 1000;

export interface CertificateAuthority {
  certificatePem: string;
  privateKeyPem: string;
}

export interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
}

/** The platform's own CA: signs the broker's server certificate and device client certificates. */
export async function createCertificateAuthority(
  platformName: string,
  validDays = 3650,
): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const notBefore = new Date(Date.now() - 60_000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [`Fieldstation CA ${platformName}`] }],
    notBefore,
    notAfter: new Date(notBefore.getTime() + validDays * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    privateKeyPem: await exportKeyPem(keys.privateKey),
  };
}

/** A TLS server certificate whose subject alternative name is the platform's address (IP or DNS). */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  address: string,
  validDays = 825,
): Promise<IssuedCertificate> {
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(address);
  return issue(ca, address, validDays, [
    new x509.SubjectAlternativeNameExtension([{ type: isIp ? 'ip' : 'dns', value: address }]),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
  ]);
}

/** How long a device certificate is valid unless told otherwise; renewed before it ends. */
export const DEVICE_CERTIFICATE_DAYS = 365;

const clientExtensions = () => [
  new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
];

/** A client certificate and a new key pair for one device (CN = its broker username). */
export async function issueDeviceCertificate(
  ca: CertificateAuthority,
  deviceName: string,
  validDays = DEVICE_CERTIFICATE_DAYS,
): Promise<IssuedCertificate> {
  return issue(ca, deviceName, validDays, clientExtensions());
}

/** Why a certificate signing request is refused; the message is safe to show the user. */
export class CsrRejectedError extends Error {
  override readonly name = 'CsrRejectedError';
}

/** A CSR is a few hundred bytes; this leaves room for RSA 4096 and stops a parser bomb. */
export const MAX_CSR_PEM_LENGTH = 16 * 1024;
const MIN_RSA_BITS = 2048;

/**
 * A client certificate for the public key of a device's CSR (PKCS #10, PEM): the private key
 * stays on the device. Refused unless the request is signed by its own key (proof of
 * possession), its key is EC P-256 or RSA of at least 2048 bits, and its subject has exactly one
 * CN, equal to the device name. Only the CN and the key are taken from the request: the
 * certificate's extensions are ours (client authentication only), whatever the request asks.
 */
export async function signDeviceCsr(
  ca: CertificateAuthority,
  deviceName: string,
  csrPem: string,
  validDays = DEVICE_CERTIFICATE_DAYS,
): Promise<string> {
  const request = parseCsr(csrPem);
  const key = createPublicKey({
    key: Buffer.from(request.publicKey.rawData),
    format: 'der',
    type: 'spki',
  });
  const details = key.asymmetricKeyDetails ?? {};
  const allowed =
    (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') ||
    (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= MIN_RSA_BITS);
  if (!allowed) {
    const found =
      key.asymmetricKeyType === 'rsa'
        ? `RSA ${details.modulusLength ?? '?'} bits`
        : `${key.asymmetricKeyType ?? 'unknown'}${details.namedCurve ? ` ${details.namedCurve}` : ''}`;
    throw new CsrRejectedError(
      `the CSR's key must be EC P-256 or RSA of at least ${MIN_RSA_BITS} bits, not ${found}`,
    );
  }
  const commonNames = request.subjectName.getField('CN');
  if (commonNames.length !== 1 || commonNames[0] !== deviceName) {
    throw new CsrRejectedError(
      `the CSR's subject must have exactly one CN, equal to the device name "${deviceName}"`,
    );
  }
  let signed: boolean;
  try {
    signed = await request.verify();
  } catch {
    signed = false;
  }
  if (!signed) throw new CsrRejectedError('the CSR is not signed by its own key');
  const issued = await issue(ca, deviceName, validDays, clientExtensions(), request.publicKey);
  return issued.certificatePem;
}

function parseCsr(csrPem: string): x509.Pkcs10CertificateRequest {
  if (csrPem.length > MAX_CSR_PEM_LENGTH) {
    throw new CsrRejectedError(`the CSR must be at most ${MAX_CSR_PEM_LENGTH} characters`);
  }
  if (!/^\s*-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(csrPem)) {
    throw new CsrRejectedError('the CSR must be PEM ("-----BEGIN CERTIFICATE REQUEST-----")');
  }
  try {
    return new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new CsrRejectedError('the CSR is not a readable PKCS #10 certificate request');
  }
}

/** When a PEM certificate stops being valid. */
export function certificateExpiry(certificatePem: string): Date {
  return new x509.X509Certificate(certificatePem).notAfter;
}

/**
 * Signs a certificate for `commonName`: for `subjectKey` (a CSR's key, no private key returned)
 * or for a new key pair (its private key returned).
 */
async function issue(
  ca: CertificateAuthority,
  commonName: string,
  validDays: number,
  extensions: x509.Extension[],
): Promise<IssuedCertificate>;
async function issue(
  ca: CertificateAuthority,
  commonName: string,
  validDays: number,
  extensions: x509.Extension[],
  subjectKey: x509.PublicKey,
): Promise<{ certificatePem: string }>;
async function issue(
  ca: CertificateAuthority,
  commonName: string,
  validDays: number,
  extensions: x509.Extension[],
  subjectKey?: x509.PublicKey,
): Promise<{ certificatePem: string; privateKeyPem?: string }> {
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pemBody(ca.privateKeyPem),
    ALGORITHM,
    false,
    ['sign'],
  );
  const keys = subjectKey
    ? undefined
    : await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const publicKey = subjectKey ?? keys!.publicKey;
  const notBefore = new Date(Date.now() - 60_000);
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [commonName] }],
    issuer: caCertificate.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + validDays * DAY_MS),
    publicKey,
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
    ],
  });
  return {
    certificatePem: certificate.toString('pem'),
    ...(keys ? { privateKeyPem: await exportKeyPem(keys.privateKey) } : {}),
  };
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  const label = 'PRIVATE KEY';
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function pemBody(pem: string): Buffer {
  return Buffer.from(
    pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, ''),
    'base64',
  );
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

/** A certificate the platform CA signed that must no longer open anything. */
export interface RevokedCertificate {
  /** Hex, as `X509Certificate.serialNumber` gives it. */
  serialNumber: string;
  revokedAt: Date;
}

/** The serial number (hex) of a PEM certificate, as a revocation list names it. */
export function certificateSerialNumber(certificatePem: string): string {
  return new x509.X509Certificate(certificatePem).serialNumber;
}

/**
 * The platform CA's certificate revocation list (PEM, X.509 v2, signed by the CA), listing
 * `revoked`; an empty list is valid and needed too: the broker refuses every client certificate
 * whose CA has no list. Its next update is the CA's own expiry, so it never goes stale between
 * revocations (Fieldstation re-issues it on each one; no distribution point is polled).
 */
export async function createRevocationList(
  ca: CertificateAuthority,
  revoked: readonly RevokedCertificate[],
): Promise<string> {
  const caCertificate = new x509.X509Certificate(ca.certificatePem);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    pemBody(ca.privateKeyPem),
    ALGORITHM,
    false,
    ['sign'],
  );
  const list = await x509.X509CrlGenerator.create({
    // The CA's own encoded name, so it matches the certificates' issuer byte for byte.
    issuer: caCertificate.subjectName,
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: caCertificate.notAfter,
    entries: revoked.map(({ serialNumber, revokedAt }) => ({
      serialNumber,
      revocationDate: revokedAt,
    })),
    signingKey: caKey,
    signingAlgorithm: ALGORITHM,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCertificate)],
  });
  // OpenSSL and Erlang read the "X509 CRL" label; the library writes "CRL".
  const lines = list.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN X509 CRL-----\n${lines.join('\n')}\n-----END X509 CRL-----\n`;
}

/**
 * The file name under which Erlang's `ssl_crl_hash_dir` (and OpenSSL's `-CApath`) looks for a
 * CA's revocation list: `<issuer name hash>.r0`, the hash being the first four bytes (little
 * endian) of the SHA-1 of the canonical name (each value a lower-cased UTF8String with its
 * whitespace trimmed and collapsed; the RDN sets without the outer sequence). Only names made by
 * {@link createCertificateAuthority} occur (one CN); anything else is refused rather than hashed
 * wrongly. Lower-casing is ASCII only, as OpenSSL does; Erlang's agrees on ASCII names.
 */
export function revocationListFileName(caCertificatePem: string): string {
  const subject = new x509.X509Certificate(caCertificatePem).subjectName.toJSON();
  const only = subject.length === 1 ? subject[0]! : undefined;
  const commonNames = only?.CN;
  if (!only || Object.keys(only).length !== 1 || commonNames?.length !== 1) {
    throw new Error('a revocation list file name needs a CA subject of exactly one CN');
  }
  const canonical = commonNames[0]!
    .replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '')
    .replace(/[ \t\n\r\f\v]+/g, ' ')
    .replace(/[A-Z]/g, (letter) => letter.toLowerCase());
  const COMMON_NAME_OID = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03]);
  const rdn = der(
    0x31,
    der(0x30, Buffer.concat([COMMON_NAME_OID, der(0x0c, Buffer.from(canonical, 'utf8'))])),
  );
  const hash = createHash('sha1').update(rdn).digest().readUInt32LE(0);
  return `${hash.toString(16).padStart(8, '0')}.r0`;
}

/** One DER element: tag, definite length, content. */
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  const header =
    length < 0x80
      ? Buffer.from([tag, length])
      : length < 0x100
        ? Buffer.from([tag, 0x81, length])
        : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([header, content]);
}
