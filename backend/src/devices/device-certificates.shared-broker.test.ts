import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import {
  type CertificateAuthority,
  certificateSerialNumber,
  createCertificateAuthority,
  revocationListStackPath,
} from '@fieldstation/platform-stack';
import amqp from 'amqplib';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, type ErrorBody } from '../../test/api-client';
import { startTestApp } from '../../test/http-app';
import {
  checkWithHostList,
  giveCertificateAuthority as giveAuthority,
  type SharedBroker,
  sharedBrokerPlatform,
  uniqueDeviceName,
} from '../../test/shared-broker-platform';
import { SessionsService } from '../auth/sessions.service';
import { Tokens } from '../auth/tokens';
import { freeLoopbackPort } from '../common/free-port';
import { PlatformAccess } from '../platforms/platform-access';
import { TLS_FIELDS } from '../platforms/platform-secrets';
import { Platform } from '../platforms/platform.entity';
import { PlatformHost } from '../provision/platform-host';
import { DeviceRegistry } from './device-registry';

type Certificate = {
  certificatePem: string;
  caCertificatePem: string;
  privateKeyPem?: string;
  expiresAt: string;
};
type Created = {
  device: { name: string; authKind: string; certificateExpiresAt: string | null };
  password?: string;
  certificate?: Certificate;
};

const run = promisify(execFile);

/** A key and CSR made as a device would, with the openssl command line. */
async function opensslCsr(keyArgs: string[], subject: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-csr-'));
  try {
    const [key, csr] = [path.join(dir, 'device.key'), path.join(dir, 'device.csr')];
    await run('openssl', ['genpkey', ...keyArgs, '-out', key]);
    await run('openssl', ['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
    return { keyPem: readFileSync(key, 'utf8'), csrPem: readFileSync(csr, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const EC_P256 = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];

/**
 * Certificate devices through the API in seconds: the shared test RabbitMQ stands in for the
 * platform's broker (test/shared-broker-platform.ts), the platform given a CA as a TLS launch
 * makes it. What a CSR may be, what is answered once, and what the broker user looks like;
 * device-certificates.broker.test.ts proves the MQTTS/AMQPS logins on a launched platform.
 */
describe('Device certificates through the API (shared test RabbitMQ over SSH)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let broker: SharedBroker;
  let devices: string;
  let platformId: string;
  let caPem: string;
  let ca: CertificateAuthority;
  const platformDirs: string[] = [];
  const created: string[] = [];

  beforeAll(async () => {
    const started = await startTestApp({ role: 'api' });
    app = started.app;
    api = new ApiClient(started.baseUrl);
    await api.signUp('certificates');
    ({ broker, platformId } = await sharedBrokerPlatform(app, api));
    devices = `/platforms/${platformId}/devices`;
  }, 120_000);

  afterAll(async () => {
    for (const name of created) await broker?.api('DELETE', `/users/${name}`);
    // A renewal wrote the revocation list to the "host" (the test sshd is this machine).
    for (const id of [platformId, ...platformDirs].filter(Boolean)) {
      rmSync(app.get(PlatformHost).layout(id).platformDir, { recursive: true, force: true });
    }
    await app?.close();
  });

  async function giveCertificateAuthority(): Promise<void> {
    ca = await giveAuthority(app, api, platformId);
    caPem = ca.certificatePem;
  }

  const name = (prefix: string) => {
    const unique = uniqueDeviceName(prefix);
    created.push(unique);
    return unique;
  };

  /** The broker user as its management API shows it (null: no such user). */
  async function brokerUser(user: string): Promise<{ password_hash: string } | null> {
    const answer = await broker.api('GET', `/users/${user}`);
    if (answer.status === 404) return null;
    return (await answer.json()) as { password_hash: string };
  }

  it('refuses certificate devices on a platform without TLS (no CA): 409, nothing registered', async () => {
    const device = name('pi-notls');
    const refused = await api.post<ErrorBody>(devices, { name: device, authKind: 'certificate' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('PLATFORM_WITHOUT_TLS');
    expect((await api.get(`${devices}/${device}`)).status).toBe(404);
    expect(await brokerUser(device)).toBeNull();
    await giveCertificateAuthority();
  });

  it('refuses a CSR with a wrong key type or a CN that is not the device: 400, nothing registered or on the broker', async () => {
    const device = name('pi-csr-bad');
    const cases: [string, string, RegExp][] = [
      [
        'RSA 1024',
        (
          await opensslCsr(
            ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
            `/CN=${device}`,
          )
        ).csrPem,
        /EC P-256 or RSA of at least 2048 bits, not RSA 1024 bits/,
      ],
      [
        'P-384',
        (
          await opensslCsr(
            ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
            `/CN=${device}`,
          )
        ).csrPem,
        /not ec secp384r1/,
      ],
      ['another CN', (await opensslCsr(EC_P256, '/CN=someone-else')).csrPem, /exactly one CN/],
      ['not PEM', 'hello', /must be PEM/],
    ];
    for (const [what, csr, message] of cases) {
      const refused = await api.post<ErrorBody>(devices, {
        name: device,
        authKind: 'certificate',
        csr,
      });
      expect(refused.status, what).toBe(400);
      expect(refused.body.error.code, what).toBe('VALIDATION_FAILED');
      expect(refused.body.error.message, what).toMatch(message);
      expect(refused.body.error.details, what).toEqual([
        { field: 'csr', problems: [expect.stringMatching(message)] },
      ]);
    }
    const tooLong = await api.post<ErrorBody>(devices, {
      name: device,
      authKind: 'certificate',
      csr: 'x'.repeat(20_000),
    });
    expect(tooLong.status).toBe(400);
    const csrForPassword = await api.post<ErrorBody>(devices, {
      name: device,
      csr: (await opensslCsr(EC_P256, `/CN=${device}`)).csrPem,
    });
    expect(csrForPassword.status).toBe(400);
    expect(csrForPassword.body.error.message).toMatch(/authKind certificate or both/);
    expect((await api.get(`${devices}/${device}`)).status).toBe(404);
    expect(await brokerUser(device)).toBeNull();
  });

  it('signs a valid CSR: no password, no private key answered, a broker user no password opens', async () => {
    const device = name('pi-csr');
    const { keyPem, csrPem } = await opensslCsr(EC_P256, `/CN=${device}`);
    const answer = await api.post<Created>(devices, {
      name: device,
      authKind: 'certificate',
      csr: csrPem,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body.password).toBeUndefined();
    const certificate = answer.body.certificate!;
    expect(certificate.privateKeyPem).toBeUndefined();
    expect(certificate.caCertificatePem).toBe(caPem);
    const x509 = new X509Certificate(certificate.certificatePem);
    expect(x509.subject).toBe(`CN=${device}`);
    expect(x509.checkIssued(new X509Certificate(caPem))).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(new Date(certificate.expiresAt).toISOString()).toBe(
      new Date(x509.validTo).toISOString(),
    );
    expect(answer.body.device).toMatchObject({
      authKind: 'certificate',
      certificateExpiresAt: certificate.expiresAt,
    });
    expect((await brokerUser(device))?.password_hash).toBe('');
    // Nothing a password could open: an empty one is refused.
    await expect(amqp.connect(`amqp://${device}:@127.0.0.1:${broker.amqpPort}`)).rejects.toThrow(
      /ACCESS_REFUSED|403/,
    );

    // Certificate only: no password to rotate or reveal.
    const rotate = await api.post<ErrorBody>(`${devices}/${device}/rotate`);
    expect(rotate.status).toBe(409);
    expect(rotate.body.error.code).toBe('DEVICE_WITHOUT_PASSWORD');
    const reveal = await api.post<ErrorBody>(`${devices}/${device}/reveal-password`);
    expect(reveal.status).toBe(409);

    // Renewal: a new certificate for the same key; the expiry is the new one; audited.
    const renewed = await api.post<{ device: Created['device']; certificate: Certificate }>(
      `${devices}/${device}/certificate`,
      { csr: csrPem },
    );
    expect(renewed.status).toBe(201);
    expect(renewed.body.certificate.certificatePem).not.toBe(certificate.certificatePem);
    expect(
      new X509Certificate(renewed.body.certificate.certificatePem).checkPrivateKey(
        createPrivateKey(keyPem),
      ),
    ).toBe(true);
    const shown = await api.get<Created['device']>(`${devices}/${device}`);
    expect(shown.body.certificateExpiresAt).toBe(renewed.body.certificate.expiresAt);
    // The previous certificate is in the revocation list written on the (running) platform's
    // host, over SSH; openssl refuses it with that list and accepts the renewed one.
    const listFile = path.join(
      app.get(PlatformHost).layout(platformId).stackDir,
      revocationListStackPath(caPem),
    );
    const dir = mkdtempSync(path.join(tmpdir(), 'fs-crl-check-'));
    try {
      const [ca, previous, current] = ['ca.pem', 'previous.pem', 'current.pem'].map((file) =>
        path.join(dir, file),
      );
      writeFileSync(ca!, caPem);
      writeFileSync(previous!, certificate.certificatePem);
      writeFileSync(current!, renewed.body.certificate.certificatePem);
      const verify = (file: string) =>
        run('openssl', ['verify', '-crl_check', '-CAfile', ca!, '-CRLfile', listFile, file]);
      await expect(verify(previous!)).rejects.toThrow(/revoked/);
      await verify(current!);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const badRenewal = await api.post<ErrorBody>(`${devices}/${device}/certificate`, {
      csr: (await opensslCsr(EC_P256, '/CN=intruder')).csrPem,
    });
    expect(badRenewal.status).toBe(400);
    const audit =
      await api.get<{ type: string; details: Record<string, string> }[]>('/audit-events');
    expect(
      audit.body.filter(
        (event) => event.type === 'device_certificate_issued' && event.details.device === device,
      ),
    ).toHaveLength(2);

    // Revoked: the broker user is gone (the certificate opens nothing), renewal refused.
    expect((await api.delete(`${devices}/${device}`)).status).toBe(200);
    expect(await brokerUser(device)).toBeNull();
    const afterRevoke = await api.post<ErrorBody>(`${devices}/${device}/certificate`, {});
    expect(afterRevoke.status).toBe(409);
    expect(afterRevoke.body.error.code).toBe('DEVICE_REVOKED');
    // The name stays taken while its certificate is valid: the broker would log that certificate
    // in as any new user of the name (EXTERNAL goes by the CN alone).
    const again = await api.post<ErrorBody>(devices, { name: device });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('NAME_HAS_VALID_CERTIFICATE');
    expect(await brokerUser(device)).toBeNull();
  });

  it('generates a key pair when no CSR is given (key answered once), and "both" gets a password too', async () => {
    const device = name('pi-gen');
    const answer = await api.post<Created>(devices, { name: device, authKind: 'certificate' });
    expect(answer.status).toBe(201);
    const { certificatePem, privateKeyPem } = answer.body.certificate!;
    expect(
      new X509Certificate(certificatePem).checkPrivateKey(createPrivateKey(privateKeyPem!)),
    ).toBe(true);
    const listed = await api.get<unknown[]>(devices);
    expect(JSON.stringify(listed.body)).not.toContain('PRIVATE KEY');
    // While the platform is not running (its broker may still be up, as when updating), a
    // renewal would leave the previous certificate accepted: refused, nothing changed.
    const platforms = app.get(DataSource).getRepository(Platform);
    await platforms.update(platformId, { status: 'updating' });
    const whileUpdating = await api.post<ErrorBody>(`${devices}/${device}/certificate`);
    await platforms.update(platformId, { status: 'running' });
    expect(whileUpdating.status).toBe(409);
    expect(whileUpdating.body.error.code).toBe('PLATFORM_NOT_RUNNING');
    const unchanged = await api.get<{ certificateExpiresAt: string }>(`${devices}/${device}`);
    expect(unchanged.body.certificateExpiresAt).toBe(answer.body.device.certificateExpiresAt);

    const renewed = await api.post<{ certificate: Certificate }>(
      `${devices}/${device}/certificate`,
    );
    expect(renewed.status).toBe(201);
    expect(renewed.body.certificate.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(renewed.body.certificate.privateKeyPem).not.toBe(privateKeyPem);

    const both = name('pi-both');
    const bothAnswer = await api.post<Created>(devices, { name: both, authKind: 'both' });
    expect(bothAnswer.status).toBe(201);
    expect(bothAnswer.body.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(bothAnswer.body.certificate?.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    const login = await amqp.connect(
      `amqp://${both}:${bothAnswer.body.password}@127.0.0.1:${broker.amqpPort}`,
    );
    await login.close();

    const passwordOnly = name('pi-pw');
    expect((await api.post<Created>(devices, { name: passwordOnly })).status).toBe(201);
    const notCertificate = await api.post<ErrorBody>(`${devices}/${passwordOnly}/certificate`);
    expect(notCertificate.status).toBe(409);
    expect(notCertificate.body.error.code).toBe('DEVICE_WITHOUT_CERTIFICATE');
  });

  it('copy-from brings the CA along to a platform without one (its launch keeps it); a platform with its own CA answers 409, nothing copied', async () => {
    const device = name('pi-copied');
    expect((await api.post(devices, { name: device, authKind: 'certificate' })).status).toBe(201);
    const { sessionId } = await app.get(Tokens).verifyAccessToken(api.accessToken!);
    const dataKey = await app.get(SessionsService).dataKey(sessionId);
    const platforms = app.get(DataSource).getRepository(Platform);
    const queuedPlatform = async (tls: boolean) => {
      const credential = await api.post<{ id: string }>('/credentials', {
        type: 'ssh-host',
        name: uniqueDeviceName('copy-host'),
        host: '127.0.0.1',
        port: await freeLoopbackPort(),
        username: 'pi',
        auth: 'generated-key',
      });
      const launched = await api.post<{ platform: { id: string } }>('/platforms', {
        name: uniqueDeviceName('copy-target'),
        target: 'ssh-host',
        credentialId: credential.body.id,
        tls,
      });
      expect(launched.status).toBe(202);
      return launched.body.platform.id;
    };
    const copiedNames = async (id: string) =>
      (await api.get<{ name: string }[]>(`/platforms/${id}/devices`)).body.map((d) => d.name);

    // Not launched yet, no CA: it takes the source's, and its launch signs the broker with it.
    const fresh = await queuedPlatform(true);
    const copied = await api.post<{ copied: { name: string }[] }>(
      `/platforms/${fresh}/devices/copy-from/${platformId}`,
    );
    expect(copied.status).toBe(200);
    expect(copied.body.copied.map((d) => d.name)).toContain(device);
    const target = await platforms.findOneByOrFail({ id: fresh });
    expect(target.caCertificatePem).toBe(caPem);
    const tls = await app
      .get(PlatformAccess)
      .open(dataKey)
      .issueTls({ ...target, address: '127.0.0.1' });
    expect(tls?.caCertificatePem).toBe(caPem);
    const serverPem = dataKey.openField(
      fresh,
      TLS_FIELDS.serverCertificate,
      tls!.secrets[TLS_FIELDS.serverCertificate]!,
    );
    expect(new X509Certificate(serverPem).verify(new X509Certificate(caPem).publicKey)).toBe(true);

    // Its own CA: the copied certificates would not be accepted there.
    const own = await queuedPlatform(true);
    const ownCa = await createCertificateAuthority('own');
    const ownRecord = await platforms.findOneByOrFail({ id: own });
    await platforms.update(own, {
      caCertificatePem: ownCa.certificatePem,
      secrets: {
        ...ownRecord.secrets,
        [TLS_FIELDS.caPrivateKey]: dataKey.sealField(
          own,
          TLS_FIELDS.caPrivateKey,
          ownCa.privateKeyPem,
        ),
      },
    });
    const before = await copiedNames(own);
    const conflict = await api.post<ErrorBody>(`/platforms/${own}/devices/copy-from/${platformId}`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('CERTIFICATE_AUTHORITY_CONFLICT');
    expect(await copiedNames(own)).toEqual(before);
    expect((await platforms.findOneByOrFail({ id: own })).caCertificatePem).toBe(
      ownCa.certificatePem,
    );

    // Without TLS there is no CA to take: refused too, nothing copied.
    const plain = await queuedPlatform(false);
    const plainBefore = await copiedNames(plain);
    const refused = await api.post<ErrorBody>(
      `/platforms/${plain}/devices/copy-from/${platformId}`,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('PLATFORM_WITHOUT_TLS');
    expect(await copiedNames(plain)).toEqual(plainBefore);
  });

  it('a certificate revoked on one platform is refused by every running platform sharing its CA (after a copy-from), and their renders list it', async () => {
    const other = (await sharedBrokerPlatform(app, api)).platformId;
    platformDirs.push(other);
    await giveAuthority(app, api, other, ca);
    const device = name('pi-shared-ca');
    const made = await api.post<Created>(devices, { name: device, authKind: 'certificate' });
    expect(made.status).toBe(201);
    const certificatePem = made.body.certificate!.certificatePem;
    expect(await checkWithHostList(app, platformId, caPem, certificatePem)).toBe('accepted');

    expect((await api.delete(`${devices}/${device}`)).status).toBe(200);
    expect(await checkWithHostList(app, platformId, caPem, certificatePem)).toBe('revoked');
    // The other platform's broker trusts the same CA: its list names the certificate too.
    expect(await checkWithHostList(app, other, caPem, certificatePem)).toBe('revoked');
    const record = await app.get(DataSource).getRepository(Platform).findOneByOrFail({ id: other });
    const serials = (await app.get(DeviceRegistry).revokedCertificates(record)).map(
      ({ serialNumber }) => serialNumber,
    );
    expect(serials).toContain(certificateSerialNumber(certificatePem));
  });

  it('a certificate a copy still holds on a platform sharing the CA stays accepted there when the original is revoked, and is listed once the copy goes too', async () => {
    const other = (await sharedBrokerPlatform(app, api)).platformId;
    platformDirs.push(other);
    await giveAuthority(app, api, other, ca);
    const device = name('pi-moved');
    const made = await api.post<Created>(devices, { name: device, authKind: 'certificate' });
    expect(made.status).toBe(201);
    const certificatePem = made.body.certificate!.certificatePem;
    const copied = await api.post<{ copied: { name: string }[] }>(
      `/platforms/${other}/devices/copy-from/${platformId}`,
    );
    expect(copied.status).toBe(200);
    expect(copied.body.copied.map((d) => d.name)).toContain(device);

    // Moved to the other platform, then cleaned up on the first: the copy keeps working.
    expect((await api.delete(`${devices}/${device}`)).status).toBe(200);
    expect(await checkWithHostList(app, platformId, caPem, certificatePem)).toBe('accepted');
    expect(await checkWithHostList(app, other, caPem, certificatePem)).toBe('accepted');

    expect((await api.delete(`/platforms/${other}/devices/${device}`)).status).toBe(200);
    expect(await checkWithHostList(app, other, caPem, certificatePem)).toBe('revoked');
    expect(await checkWithHostList(app, platformId, caPem, certificatePem)).toBe('revoked');
  });
});
