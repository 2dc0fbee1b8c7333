import { execFile } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import {
  ADMIN_USER,
  type CertificateAuthority,
  createCertificateAuthority,
  revocationListStackPath,
} from '@fieldstation/platform-stack';
import { DataSource } from 'typeorm';
import type { ApiClient } from './api-client';
import { Tokens } from '../src/auth/tokens';
import { SessionsService } from '../src/auth/sessions.service';
import { freeLoopbackPort } from '../src/common/free-port';
import { TLS_FIELDS } from '../src/platforms/platform-secrets';
import { Platform } from '../src/platforms/platform.entity';
import { PlatformHost } from '../src/provision/platform-host';
import { testSshTarget } from '../src/provision/testing/test-ssh-host';

/** The shared test broker of scripts/services/rabbitmq.sh (AMQP, MQTT and management ports). */
export interface SharedBroker {
  amqpPort: number;
  mqttPort: number;
  managementPort: number;
  /** Calls its management API directly as its seeded administrator (test setup only). */
  api(method: string, path: string, body?: unknown): Promise<Response>;
}

export function sharedBroker(): SharedBroker {
  const amqpUrl = new URL(required('FS_TEST_AMQP_URL'));
  const apiUrl = new URL(required('FS_TEST_RABBITMQ_API_URL'));
  const login = `${decodeURIComponent(amqpUrl.username)}:${decodeURIComponent(amqpUrl.password)}`;
  return {
    amqpPort: Number(amqpUrl.port),
    mqttPort: Number(new URL(required('FS_TEST_MQTT_URL')).port),
    managementPort: Number(apiUrl.port),
    api: (method, path, body) =>
      fetch(new URL(`/api${path}`, apiUrl), {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(login).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      }),
  };
}

/** A device name no other test on the shared broker uses (broker users are global there). */
export function uniqueDeviceName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * A platform whose broker is the shared test RabbitMQ, reached exactly as a launched platform's
 * is: over SSH to the test sshd (host key pinned) and a direct-tcpip channel to the management
 * API on the host's loopback, as `fieldstation-admin`. Nothing is launched (the app may run
 * without a worker): the platform is registered through the API, then marked running with the
 * test broker's ports, so device changes meet a real broker in seconds.
 *
 * `fieldstation-admin` gets a password derived from the test broker's own administrator password,
 * so test files running at once all set the same one.
 */
export async function sharedBrokerPlatform(
  app: INestApplication,
  api: ApiClient,
): Promise<{ platformId: string; broker: SharedBroker }> {
  const broker = sharedBroker();
  const adminPassword = createHmac('sha256', required('FS_TEST_AMQP_URL'))
    .update('fieldstation-admin of the device tests')
    .digest('base64url');
  for (const [path, body] of [
    [`/users/${ADMIN_USER}`, { password: adminPassword, tags: 'administrator' }],
    [`/permissions/%2F/${ADMIN_USER}`, { configure: '.*', write: '.*', read: '.*' }],
  ] as const) {
    const answer = await broker.api('PUT', path, body);
    if (!answer.ok) throw new Error(`test broker PUT ${path}: HTTP ${answer.status}`);
  }

  const ssh = testSshTarget();
  const credential = await api.post<{ id: string }>('/credentials', {
    type: 'ssh-host',
    name: uniqueDeviceName('test-host'),
    host: ssh.host,
    port: ssh.port,
    username: ssh.username,
    auth: 'uploaded-key',
    privateKey: readFileSync(required('FS_TEST_SSH_KEY_FILE'), 'utf8'),
  });
  if (credential.status !== 201) throw new Error(`credential: HTTP ${credential.status}`);
  const launched = await api.post<{ platform: { id: string } }>('/platforms', {
    name: uniqueDeviceName('shared-broker'),
    target: 'ssh-host',
    credentialId: credential.body.id,
    deviceUsers: [uniqueDeviceName('launch')],
    tls: false,
    ports: {
      amqp: await freeLoopbackPort(),
      mqtt: await freeLoopbackPort(),
      rabbitmqManagement: await freeLoopbackPort(),
      grafana: null,
    },
  });
  if (launched.status !== 202) throw new Error(`launch: HTTP ${launched.status}`);
  const platformId = launched.body.platform.id;

  const { sessionId } = await app.get(Tokens).verifyAccessToken(api.accessToken!);
  const dataKey = await app.get(SessionsService).dataKey(sessionId);
  const platforms = app.get(DataSource).getRepository(Platform);
  const platform = await platforms.findOneByOrFail({ id: platformId });
  await platforms.update(platformId, {
    status: 'running',
    address: ssh.host,
    hostKeyFingerprint: ssh.hostKeyFingerprint,
    ports: {
      ...platform.ports,
      amqp: broker.amqpPort,
      mqtt: broker.mqttPort,
      rabbitmqManagement: broker.managementPort,
    },
    secrets: {
      ...platform.secrets,
      brokerAdminPassword: dataKey.sealField(platformId, 'brokerAdminPassword', adminPassword),
    },
  });
  return { platformId, broker };
}

/**
 * Gives the platform a CA sealed in its secrets (`ca`, else a new one), as a TLS launch's
 * configuring step (or a copy-from, for a second platform sharing it) does.
 */
export async function giveCertificateAuthority(
  app: INestApplication,
  api: ApiClient,
  platformId: string,
  ca?: CertificateAuthority,
): Promise<CertificateAuthority> {
  const authority = ca ?? (await createCertificateAuthority('shared-broker'));
  const { sessionId } = await app.get(Tokens).verifyAccessToken(api.accessToken!);
  const dataKey = await app.get(SessionsService).dataKey(sessionId);
  const platforms = app.get(DataSource).getRepository(Platform);
  const platform = await platforms.findOneByOrFail({ id: platformId });
  await platforms.update(platformId, {
    tls: true,
    caCertificatePem: authority.certificatePem,
    secrets: {
      ...platform.secrets,
      [TLS_FIELDS.caPrivateKey]: dataKey.sealField(
        platformId,
        TLS_FIELDS.caPrivateKey,
        authority.privateKeyPem,
      ),
    },
  });
  return authority;
}

/**
 * What `openssl verify -crl_check` says of a certificate with the revocation list written on the
 * platform's "host" (the test sshd is this machine): 'revoked', 'accepted', or 'no list'.
 */
export async function checkWithHostList(
  app: INestApplication,
  platformId: string,
  caPem: string,
  certificatePem: string,
): Promise<'revoked' | 'accepted' | 'no list'> {
  const listFile = path.join(
    app.get(PlatformHost).layout(platformId).stackDir,
    revocationListStackPath(caPem),
  );
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-crl-check-'));
  try {
    const [ca, certificate] = [path.join(dir, 'ca.pem'), path.join(dir, 'certificate.pem')];
    writeFileSync(ca, caPem);
    writeFileSync(certificate, certificatePem);
    try {
      readFileSync(listFile);
    } catch {
      return 'no list';
    }
    const verify = ['verify', '-crl_check', '-CAfile', ca, '-CRLfile', listFile, certificate];
    return await promisify(execFile)('openssl', verify).then(
      () => 'accepted' as const,
      (error: Error & { stdout?: string; stderr?: string }) => {
        if (/revoked/.test(`${error.stdout}${error.stderr}${error.message}`)) return 'revoked';
        throw error;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: eval "$(scripts/services/rabbitmq.sh start)"`);
  return value;
}
