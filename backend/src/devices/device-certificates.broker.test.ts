import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  destroyLaunched,
  launchOnTestHost,
  type LaunchedPlatform,
} from '../../test/launched-platform';
import { ApiClient } from '../../test/api-client';
import { freeLoopbackPort } from '../common/free-port';
import { PlatformProbe, waitFor } from '../provision/testing/platform-probes';

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

/** A key pair and CSR made on the "device" with the openssl command line; the key stays here. */
async function deviceCsr(name: string): Promise<{ keyPem: string; csrPem: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-device-csr-'));
  try {
    const [key, csr] = [path.join(dir, 'device.key'), path.join(dir, 'device.csr')];
    await run('openssl', [
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      key,
    ]);
    await run('openssl', ['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
    return { keyPem: readFileSync(key, 'utf8'), csrPem: readFileSync(csr, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Certificate devices on a real platform launched with TLS through the API on the local SSH host
 * (one platform for the file): devices log in over MQTTS/AMQPS by their client certificate of the
 * platform CA (EXTERNAL, CN = name) with no password; renewing lists the previous certificate in
 * the broker's revocation list (written on the host at once), so it is refused; revoking lists it
 * and deletes the broker user, so the certificate opens nothing; password devices keep working
 * over the same TLS listeners.
 */
describe('Certificate devices on a running TLS platform (real broker over SSH)', () => {
  let launched: LaunchedPlatform | undefined;
  let api: ApiClient;
  let devices: string;
  let probe: PlatformProbe;
  let host: string;
  let mqttsPort: number;
  let amqpsPort: number;
  let caPem: string;

  beforeAll(async () => {
    host = process.env.FS_TEST_SSH_HOST!;
    [amqpsPort, mqttsPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
    launched = await launchOnTestHost('certificates', {
      name: 'certified',
      database: 'postgres',
      tls: true,
      ports: {
        amqps: amqpsPort,
        mqtts: mqttsPort,
        rabbitmqManagement: await freeLoopbackPort(),
        grafana: null,
      },
    });
    ({ api, devices, probe } = launched);
  }, 960_000);

  afterAll(async () => destroyLaunched(launched), 360_000);

  /** MQTTS with the device's certificate and key and no username or password. */
  const mqttsWithCertificate = (name: string, cert: string, key: string) =>
    mqtt.connectAsync(`mqtts://${host}:${mqttsPort}`, {
      clientId: name,
      ca: caPem,
      cert,
      key,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });

  const reading = (device: string, seq: number, via: string) =>
    JSON.stringify({ measurement: 'room', device, data: { raw: 1000 + seq, seq, via } });

  async function expectStored(device: string, count: number) {
    const rows = await waitFor(
      `${count} readings of ${device}`,
      () => probe.readings('postgres').filter((row) => row.device === device),
      (found) => found.length === count,
      30_000,
    );
    expect(rows).toHaveLength(count);
  }

  it('a generated-certificate device logs in over MQTTS and AMQPS by its certificate alone; after revoke it cannot', async () => {
    const created = await api.post<Created>(devices, { name: 'cert-gen', authKind: 'certificate' });
    expect(created.status).toBe(201);
    expect(created.body.password).toBeUndefined();
    const certificate = created.body.certificate!;
    expect(certificate.privateKeyPem).toMatch(/BEGIN PRIVATE KEY/);
    expect(created.body.device.certificateExpiresAt).toBe(certificate.expiresAt);
    caPem = certificate.caCertificatePem;

    const client = await mqttsWithCertificate(
      'cert-gen',
      certificate.certificatePem,
      certificate.privateKeyPem!,
    );
    await client.publishAsync('telemetry/room/cert-gen', reading('cert-gen', 1, 'mqtts'), {
      qos: 1,
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const connection = await amqp.connect(
      { protocol: 'amqps', hostname: host, port: amqpsPort },
      {
        ca: [caPem],
        cert: certificate.certificatePem,
        key: certificate.privateKeyPem,
        credentials: amqp.credentials.external(),
      },
    );
    const channel = await connection.createConfirmChannel();
    channel.publish(
      'amq.topic',
      'telemetry.room.cert-gen',
      Buffer.from(reading('cert-gen', 2, 'amqps')),
    );
    await channel.waitForConfirms();
    await connection.close().catch(() => undefined);
    await expectStored('cert-gen', 2);

    // The answer shows the expiry, never the key again.
    const shown = await api.get<Record<string, unknown>>(`${devices}/cert-gen`);
    expect(shown.body).toMatchObject({
      authKind: 'certificate',
      certificateExpiresAt: certificate.expiresAt,
    });
    expect(JSON.stringify(shown.body)).not.toContain('PRIVATE KEY');

    expect((await api.delete(`${devices}/cert-gen`)).status).toBe(200);
    await closed;
    // Refused at the TLS handshake (the revocation list names the certificate) and, were it
    // not, by the login (the broker user is gone).
    await expect(
      mqttsWithCertificate('cert-gen', certificate.certificatePem, certificate.privateKeyPem!),
    ).rejects.toThrow();
    await expect(
      amqp.connect(
        { protocol: 'amqps', hostname: host, port: amqpsPort },
        {
          ca: [caPem],
          cert: certificate.certificatePem,
          key: certificate.privateKeyPem,
          credentials: amqp.credentials.external(),
        },
      ),
    ).rejects.toThrow();
  });

  it('a CSR-based device (its key never sent) logs in over MQTTS; renewal signs again and the previous certificate is refused at once; after revoke it cannot', async () => {
    const { keyPem, csrPem } = await deviceCsr('cert-csr');
    const created = await api.post<Created>(devices, {
      name: 'cert-csr',
      authKind: 'certificate',
      csr: csrPem,
    });
    expect(created.status).toBe(201);
    const certificate = created.body.certificate!;
    expect(certificate.privateKeyPem).toBeUndefined();
    caPem = certificate.caCertificatePem;

    const client = await mqttsWithCertificate('cert-csr', certificate.certificatePem, keyPem);
    await client.publishAsync('telemetry/room/cert-csr', reading('cert-csr', 1, 'mqtts'), {
      qos: 1,
    });
    await client.endAsync();

    const renewed = await api.post<{ certificate: Certificate }>(
      `${devices}/cert-csr/certificate`,
      {
        csr: csrPem,
      },
    );
    expect(renewed.status).toBe(201);
    expect(renewed.body.certificate.certificatePem).not.toBe(certificate.certificatePem);
    const again = await mqttsWithCertificate(
      'cert-csr',
      renewed.body.certificate.certificatePem,
      keyPem,
    );
    await again.publishAsync('telemetry/room/cert-csr', reading('cert-csr', 2, 'mqtts'), {
      qos: 1,
    });
    await again.endAsync();
    await expectStored('cert-csr', 2);
    // Renewing revoked the previous certificate: the broker's revocation list (replaced on the
    // host, no restart) names it, though it is unexpired, of the same key and CN.
    await expect(
      mqttsWithCertificate('cert-csr', certificate.certificatePem, keyPem),
    ).rejects.toThrow();
    const stillRenewed = await mqttsWithCertificate(
      'cert-csr',
      renewed.body.certificate.certificatePem,
      keyPem,
    );
    await stillRenewed.endAsync();

    expect((await api.delete(`${devices}/cert-csr`)).status).toBe(200);
    await expect(
      mqttsWithCertificate('cert-csr', renewed.body.certificate.certificatePem, keyPem),
    ).rejects.toThrow();
  });

  it('password devices (and both-kind devices by password) still log in over MQTTS meanwhile', async () => {
    const created = await api.post<Created>(devices, { name: 'pw-only' });
    expect(created.status).toBe(201);
    const both = await api.post<Created>(devices, { name: 'cert-both', authKind: 'both' });
    expect(both.status).toBe(201);
    caPem = both.body.certificate!.caCertificatePem;
    for (const [name, password] of [
      ['pw-only', created.body.password!],
      ['cert-both', both.body.password!],
    ] as const) {
      const client = await mqtt.connectAsync(`mqtts://${host}:${mqttsPort}`, {
        clientId: name,
        username: name,
        password,
        ca: caPem,
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
      });
      await client.publishAsync(`telemetry/room/${name}`, reading(name, 1, 'password'), { qos: 1 });
      await client.endAsync();
    }
    const byCertificate = await mqttsWithCertificate(
      'cert-both',
      both.body.certificate!.certificatePem,
      both.body.certificate!.privateKeyPem!,
    );
    await byCertificate.publishAsync('telemetry/room/cert-both', reading('cert-both', 2, 'cert'), {
      qos: 1,
    });
    await byCertificate.endAsync();
    await expectStored('pw-only', 1);
    await expectStored('cert-both', 2);
  });
});
