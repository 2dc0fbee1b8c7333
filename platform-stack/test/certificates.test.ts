import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  certificateExpiry,
  certificateSerialNumber,
  createCertificateAuthority,
  createRevocationList,
  CsrRejectedError,
  issueDeviceCertificate,
  issueServerCertificate,
  revocationListFileName,
  signDeviceCsr,
} from '../src';

const run = promisify(execFile);

/** A key and CSR made as a device would, with the openssl command line. */
async function opensslCsr(keyArgs: string[], subject: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-csr-'));
  try {
    const keyFile = path.join(dir, 'device.key');
    const csrFile = path.join(dir, 'device.csr');
    await run('openssl', ['genpkey', ...keyArgs, '-out', keyFile]);
    await run('openssl', ['req', '-new', '-key', keyFile, '-subj', subject, '-out', csrFile]);
    return { keyPem: readFileSync(keyFile, 'utf8'), csrPem: readFileSync(csrFile, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const EC_P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
const RSA = (bits: number) => ['-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`];

/** Whether a TLS server trusting only `caPem` accepts this client certificate and key. */
async function mutualTlsAccepts(
  server: { certificatePem: string; privateKeyPem: string },
  caPem: string,
  client: { cert: string; key: string },
): Promise<string | null> {
  const tlsServer = tls.createServer({
    cert: server.certificatePem,
    key: server.privateKeyPem,
    ca: caPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  const peer = new Promise<string>((resolve) =>
    tlsServer.once('secureConnection', (socket) => {
      resolve(socket.getPeerX509Certificate()?.subject ?? '');
      socket.end();
    }),
  );
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  try {
    const port = (tlsServer.address() as AddressInfo).port;
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: caPem, ...client }, () => {
        resolve(socket.authorized);
        socket.end();
      });
      socket.once('error', reject);
    });
    return authorized ? await peer : null;
  } finally {
    tlsServer.close();
  }
}

describe('broker certificates', () => {
  it('issues a server certificate for the platform address and device client certificates from one CA', async () => {
    const ca = await createCertificateAuthority('demo');
    const server = await issueServerCertificate(ca, '127.0.0.1');
    const device = await issueDeviceCertificate(ca, 'pi1');
    const caCert = new X509Certificate(ca.certificatePem);
    const serverCert = new X509Certificate(server.certificatePem);
    const deviceCert = new X509Certificate(device.certificatePem);

    expect(caCert.ca).toBe(true);
    expect(serverCert.ca).toBe(false);
    expect(serverCert.checkIssued(caCert) && serverCert.verify(caCert.publicKey)).toBe(true);
    expect(deviceCert.checkIssued(caCert) && deviceCert.verify(caCert.publicKey)).toBe(true);
    expect(serverCert.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(serverCert.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth, unlike MyT's client cert
    expect(deviceCert.keyUsage).toContain('1.3.6.1.5.5.7.3.2'); // clientAuth
    expect(deviceCert.subject).toBe('CN=pi1');

    // A real TLS handshake with mutual authentication proves the chain and the keys fit together.
    const tlsServer = tls.createServer({
      cert: server.certificatePem,
      key: server.privateKeyPem,
      ca: ca.certificatePem,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const peerName = new Promise<string>((resolve) =>
      tlsServer.once('secureConnection', (socket) => {
        resolve(socket.getPeerX509Certificate()?.subject ?? '');
        socket.end();
      }),
    );
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tlsServer.address() as AddressInfo).port;
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const client = tls.connect(
          {
            host: '127.0.0.1',
            port,
            ca: ca.certificatePem,
            cert: device.certificatePem,
            key: device.privateKeyPem,
          },
          () => {
            resolve(client.authorized);
            client.end();
          },
        );
        client.once('error', reject);
      });
      expect(authorized).toBe(true);
      expect(await peerName).toBe('CN=pi1');
    } finally {
      tlsServer.close();
    }
  });

  it('uses a DNS name as the SAN when the address is a host name', async () => {
    const ca = await createCertificateAuthority('demo');
    const server = await issueServerCertificate(ca, 'iot.example.org');
    expect(new X509Certificate(server.certificatePem).subjectAltName).toBe('DNS:iot.example.org');
  });

  it('signs a device CSR (EC P-256 or RSA 2048) for its own key, with CN = the device name', async () => {
    const ca = await createCertificateAuthority('demo');
    const server = await issueServerCertificate(ca, '127.0.0.1');
    for (const keyArgs of [EC_P256, RSA(2048)]) {
      const { keyPem, csrPem } = await opensslCsr(keyArgs, '/CN=pi7');
      const before = Date.now();
      const certificatePem = await signDeviceCsr(ca, 'pi7', csrPem);
      const certificate = new X509Certificate(certificatePem);
      expect(certificate.subject).toBe('CN=pi7');
      expect(certificate.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
      expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
      const expiry = certificateExpiry(certificatePem).getTime();
      expect(expiry).toBeGreaterThan(before + 364 * 86_400_000);
      // The device's own key and the signed certificate pass a mutual TLS handshake.
      expect(
        await mutualTlsAccepts(server, ca.certificatePem, { cert: certificatePem, key: keyPem }),
      ).toBe('CN=pi7');
    }
  });

  it('refuses a CSR with a key other than EC P-256 or RSA ≥ 2048, or a CN that is not the device', async () => {
    const ca = await createCertificateAuthority('demo');
    const refused = async (csrPem: string, name = 'pi7') => {
      const error = await signDeviceCsr(ca, name, csrPem).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(CsrRejectedError);
      return (error as Error).message;
    };
    const rsa1024 = await opensslCsr(RSA(1024), '/CN=pi7');
    expect(await refused(rsa1024.csrPem)).toMatch(/EC P-256 or RSA .* not RSA 1024 bits/);
    const p384 = await opensslCsr(
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      '/CN=pi7',
    );
    expect(await refused(p384.csrPem)).toMatch(/not ec secp384r1/);
    const ed25519 = await opensslCsr(['-algorithm', 'ED25519'], '/CN=pi7');
    expect(await refused(ed25519.csrPem)).toMatch(/not ed25519/);

    const otherName = await opensslCsr(EC_P256, '/CN=pi8');
    expect(await refused(otherName.csrPem)).toMatch(
      /exactly one CN, equal to the device name "pi7"/,
    );
    const twoNames = await opensslCsr(EC_P256, '/CN=pi7/CN=pi8');
    expect(await refused(twoNames.csrPem)).toMatch(/exactly one CN/);
    const noName = await opensslCsr(EC_P256, '/O=greenhouse');
    expect(await refused(noName.csrPem)).toMatch(/exactly one CN/);

    expect(await refused('not a csr')).toMatch(/must be PEM/);
    const garbled =
      '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n';
    expect(await refused(garbled)).toMatch(/not a readable/);
    expect(await refused(`${otherName.csrPem}${' '.repeat(20_000)}`)).toMatch(/at most/);
  });

  it('refuses a CSR whose signature does not match its key (no proof of possession)', async () => {
    const ca = await createCertificateAuthority('demo');
    const { csrPem } = await opensslCsr(EC_P256, '/CN=pi7');
    const der = Buffer.from(csrPem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
    der[der.length - 5] ^= 0xff; // inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await expect(signDeviceCsr(ca, 'pi7', tampered)).rejects.toThrow(/not signed by its own key/);
  });

  it('a generated device certificate expires after a year', async () => {
    const ca = await createCertificateAuthority('demo');
    const device = await issueDeviceCertificate(ca, 'pi1');
    const days = (certificateExpiry(device.certificatePem).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(365);
  });

  it('revokes by a CA-signed CRL that openssl checks, filed under the issuer hash OpenSSL and Erlang compute', async () => {
    const ca = await createCertificateAuthority('Demo  Platform ');
    const revoked = await issueDeviceCertificate(ca, 'pi1');
    const kept = await issueDeviceCertificate(ca, 'pi1');
    const list = await createRevocationList(ca, [
      { serialNumber: certificateSerialNumber(revoked.certificatePem), revokedAt: new Date() },
    ]);
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-crl-'));
    try {
      const file = (name: string, content: string) => {
        writeFileSync(path.join(dir, name), content);
        return path.join(dir, name);
      };
      const caFile = file('ca.pem', ca.certificatePem);
      const crlFile = file('crl.pem', list);
      const verify = (certificatePem: string) =>
        run('openssl', [
          'verify',
          '-crl_check',
          '-CAfile',
          caFile,
          '-CRLfile',
          crlFile,
          file('device.pem', certificatePem),
        ]).then(
          () => 'ok',
          (error: { stdout?: string; stderr?: string }) =>
            `${error.stdout ?? ''}${error.stderr ?? ''}`,
        );
      expect(await verify(kept.certificatePem)).toBe('ok');
      expect(await verify(revoked.certificatePem)).toMatch(/certificate revoked/);

      const fileName = revocationListFileName(ca.certificatePem);
      const openssl = (await run('openssl', ['crl', '-in', crlFile, '-noout', '-hash'])).stdout;
      expect(fileName).toBe(`${openssl.trim()}.r0`);
      // What the broker's ssl_crl_hash_dir computes from a client certificate's issuer.
      const erlang = await run('erl', [
        '-noshell',
        '-eval',
        `{ok, Pem} = file:read_file("${file('device.pem', kept.certificatePem)}"),
         [{'Certificate', Der, _}] = public_key:pem_decode(Pem),
         Cert = public_key:pkix_decode_cert(Der, otp),
         Issuer = element(5, element(2, Cert)), % OTPTBSCertificate.issuer
         io:format("~s", [public_key:short_name_hash(Issuer)]),
         halt().`,
      ]);
      expect(fileName).toBe(`${erlang.stdout.trim()}.r0`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
