import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueDeviceCertificate, issueServerCertificate } from '../src';

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
});
