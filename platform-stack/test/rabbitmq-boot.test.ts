import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateSerialNumber,
  createCertificateAuthority,
  createRevocationList,
  createStackSpec,
  generateStackSecrets,
  issueDeviceCertificate,
  issueServerCertificate,
  MAX_MESSAGE_BYTES,
  renderStack,
  revocationListStackPath,
  type CertificateAuthority,
  type IssuedCertificate,
  type StackSpec,
} from '../src';

const run = promisify(execFile);
const RABBITMQ_BIN = '/usr/lib/rabbitmq/bin';
// Ports of this throw-away node only (the shared test broker uses 5567x and 51883).
const PORTS = {
  amqp: 56672,
  amqps: 56671,
  mqtt: 56883,
  mqtts: 56884,
  management: 56673,
  distribution: 56674,
  epmd: 56675,
};

/**
 * Boots a real RabbitMQ node (Debian's 3.10) from the rendered rabbitmq.conf, enabled_plugins,
 * definitions.json and TLS files, to prove they load, that no guest user exists and that devices
 * connect over TLS with the generated certificates. Only the listener ports and the file paths
 * differ from the container's (substituted below).
 */
describe('the rendered RabbitMQ configuration on a real node', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fs-rabbit-boot-'));
  let spec: StackSpec;
  let ca: CertificateAuthority;
  let caPem: string;
  let deviceCertificate: IssuedCertificate;
  let certificateOnly: IssuedCertificate;
  let otherCaCertificate: IssuedCertificate;
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    ERL_EPMD_PORT: String(PORTS.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_NODENAME: `fs-boot-${process.pid}@localhost`,
    RABBITMQ_DIST_PORT: String(PORTS.distribution),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
  };
  const asRabbitmq = (command: string, args: string[]) =>
    run('runuser', ['-u', 'rabbitmq', '--', path.join(RABBITMQ_BIN, command), ...args], { env });

  /** Starts the node on the same directory (its database survives a restart, as on a VM). */
  const startBroker = async () => {
    const server = spawn(
      'runuser',
      ['-u', 'rabbitmq', '--', path.join(RABBITMQ_BIN, 'rabbitmq-server')],
      {
        env,
        cwd: dir,
        detached: true,
        stdio: 'ignore',
      },
    );
    server.unref();
    await asRabbitmq('rabbitmqctl', ['-q', 'wait', '--timeout', '120', env.RABBITMQ_PID_FILE]);
  };

  beforeAll(async () => {
    ca = await createCertificateAuthority('boot-test');
    const serverCertificate = await issueServerCertificate(ca, '127.0.0.1');
    deviceCertificate = await issueDeviceCertificate(ca, 'pi1');
    certificateOnly = await issueDeviceCertificate(ca, 'cert1');
    otherCaCertificate = await issueDeviceCertificate(
      await createCertificateAuthority('another-platform'),
      'cert1',
    );
    caPem = ca.certificatePem;
    spec = createStackSpec({
      address: '127.0.0.1',
      database: 'postgres',
      secrets: generateStackSecrets(),
      deviceUsers: [
        { name: 'pi1', password: 'device-password-1' },
        { name: 'pi9', password: 'device-password-9' },
        { name: 'cert1', password: null },
      ],
      processor: { scriptSource: 'export default (reading) => reading;' },
      tls: {
        caCertificatePem: ca.certificatePem,
        serverCertificatePem: serverCertificate.certificatePem,
        serverPrivateKeyPem: serverCertificate.privateKeyPem,
        revocationListPem: await createRevocationList(ca, []),
      },
    });
    mkdirSync(path.join(dir, 'tls', 'crl'), { recursive: true });
    for (const file of renderStack(spec).files) {
      if (!file.path.startsWith('rabbitmq/')) continue;
      let content = file.content;
      if (file.path === 'rabbitmq/advanced.config') {
        content = content.replaceAll('/etc/rabbitmq/tls', path.join(dir, 'tls'));
      }
      if (file.path === 'rabbitmq/rabbitmq.conf') {
        content = content
          .replace('/etc/rabbitmq/definitions.json', path.join(dir, 'definitions.json'))
          .replaceAll('/etc/rabbitmq/tls', path.join(dir, 'tls'))
          .replace('listeners.ssl.default = 5671', `listeners.ssl.1 = 127.0.0.1:${PORTS.amqps}`)
          .replace(
            'mqtt.listeners.ssl.default = 8883',
            `mqtt.listeners.ssl.1 = 127.0.0.1:${PORTS.mqtts}`,
          )
          .replace('listeners.tcp.default = 5672', `listeners.tcp.1 = 127.0.0.1:${PORTS.amqp}`)
          .replace(
            'mqtt.listeners.tcp.default = 1883',
            `mqtt.listeners.tcp.1 = 127.0.0.1:${PORTS.mqtt}`,
          )
          .replace(
            'management.tcp.port = 15672',
            `management.tcp.port = ${PORTS.management}\nmanagement.tcp.ip = 127.0.0.1`,
          );
      }
      writeFileSync(path.join(dir, file.path.slice('rabbitmq/'.length)), content, {
        mode: file.mode,
      });
    }
    writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
    mkdirSync(path.join(dir, 'mnesia'));
    mkdirSync(path.join(dir, 'log'));
    // As on the VM, where the playbook hands the key (mode 0600) to the broker's user.
    await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]);

    await startBroker();
  }, 150_000);

  afterAll(async () => {
    await asRabbitmq('rabbitmqctl', ['-q', 'stop', env.RABBITMQ_PID_FILE]).catch(() => undefined);
    await run('epmd', ['-kill'], { env }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('has exactly the platform users (no guest), the durable queues, the bindings, classic queue storage v2 and the disk alarm limit', async () => {
    const users = (await asRabbitmq('rabbitmqctl', ['-q', 'list_users', '--formatter', 'json']))
      .stdout;
    expect((JSON.parse(users) as { user: string }[]).map((user) => user.user).sort()).toEqual([
      'cert1',
      'fieldstation-admin',
      'fieldstation-processor',
      'pi1',
      'pi9',
    ]);
    const bindings = (
      await asRabbitmq('rabbitmqctl', [
        '-q',
        'list_bindings',
        'source_name',
        'routing_key',
        '--formatter',
        'json',
      ])
    ).stdout;
    expect(JSON.parse(bindings)).toEqual(
      expect.arrayContaining([
        { source_name: 'amq.topic', routing_key: 'telemetry.#' },
        { source_name: 'data', routing_key: '' },
      ]),
    );
    const api = (user: string, password: string) =>
      fetch(`http://127.0.0.1:${PORTS.management}/api/whoami`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        },
      });
    const queueVersion = await asRabbitmq('rabbitmqctl', [
      'eval',
      'application:get_env(rabbit, classic_queue_default_version).',
    ]);
    expect(queueVersion.stdout.trim()).toBe('{ok,2}');
    // The broker's own disk alarm: publishers are blocked while less than 256 MB is free.
    const diskLimit = await asRabbitmq('rabbitmqctl', [
      'eval',
      'rabbit_disk_monitor:get_disk_free_limit().',
    ]);
    expect(diskLimit.stdout.trim()).toBe(String(256 * 1000 * 1000));
    expect((await api('guest', 'guest')).status).toBe(401);
    expect((await api('fieldstation-admin', spec.secrets.brokerAdminPassword)).status).toBe(200);
  });

  it('accepts devices over AMQPS and MQTTS with the generated CA, with and without a client certificate', async () => {
    const tls = { ca: [caPem], servername: '127.0.0.1' };
    const plain = await amqp.connect(`amqps://pi1:device-password-1@127.0.0.1:${PORTS.amqps}`, tls);
    await plain.close();
    const withCertificate = await amqp.connect(
      `amqps://pi1:device-password-1@127.0.0.1:${PORTS.amqps}`,
      {
        ...tls,
        cert: deviceCertificate.certificatePem,
        key: deviceCertificate.privateKeyPem,
      },
    );
    const channel = await withCertificate.createConfirmChannel();
    channel.publish('amq.topic', 'telemetry.room.pi1', Buffer.from('{"data":{"t":1}}'));
    await channel.waitForConfirms();
    await withCertificate.close();

    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${PORTS.mqtts}`, {
      username: 'pi1',
      password: 'device-password-1',
      protocolVersion: 4,
      reconnectPeriod: 0,
      ca: caPem,
    });
    await client.publishAsync('telemetry/room/pi1', '{"data":{"t":2}}', { qos: 1 });
    await client.endAsync();

    // A client that does not trust the platform CA is refused by its own verification.
    await expect(
      amqp.connect(`amqps://pi1:device-password-1@127.0.0.1:${PORTS.amqps}`),
    ).rejects.toThrow(/self[- ]signed|unable to (verify|get local issuer)/i);
  });

  it('logs a certificate-only device in by its certificate CN (AMQPS EXTERNAL, MQTTS without a password), never by a password', async () => {
    const tls = { ca: [caPem], servername: '127.0.0.1' };
    const ownCertificate = {
      cert: certificateOnly.certificatePem,
      key: certificateOnly.privateKeyPem,
    };
    const external = await amqp.connect(
      { protocol: 'amqps', hostname: '127.0.0.1', port: PORTS.amqps },
      { ...tls, ...ownCertificate, credentials: amqp.credentials.external() },
    );
    const channel = await external.createConfirmChannel();
    channel.publish('amq.topic', 'telemetry.room.cert1', Buffer.from('{"data":{"t":3}}'));
    await channel.waitForConfirms();
    await external.close();

    const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${PORTS.mqtts}`, {
      clientId: 'cert1',
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...tls,
      ...ownCertificate,
    });
    await client.publishAsync('telemetry/room/cert1', '{"data":{"t":4}}', { qos: 1 });
    await client.endAsync();

    // No password opens it (its hash is empty), with or without the certificate.
    await expect(
      amqp.connect(`amqps://cert1:@127.0.0.1:${PORTS.amqps}`, { ...tls, ...ownCertificate }),
    ).rejects.toThrow(/ACCESS_REFUSED|403/);
    // Another CA's certificate for the same CN fails the TLS handshake.
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${PORTS.mqtts}`, {
        clientId: 'cert1',
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...tls,
        cert: otherCaCertificate.certificatePem,
        key: otherCaCertificate.privateKeyPem,
      }),
    ).rejects.toThrow();
    // Without any certificate or login, MQTT stays closed (no anonymous access).
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${PORTS.mqtts}`, {
        clientId: 'cert1',
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...tls,
      }),
    ).rejects.toThrow();
  });

  it('refuses a message over max_message_size (1 MiB): the publishing AMQP channel is closed and nothing is queued', async () => {
    const queued = async () =>
      (
        JSON.parse(
          (
            await asRabbitmq('rabbitmqctl', [
              '-q',
              'list_queues',
              'name',
              'messages',
              '--formatter',
              'json',
            ])
          ).stdout,
        ) as { name: string; messages: number }[]
      ).find((queue) => queue.name === 'telemetry')!.messages;
    const before = await queued();

    const connection = await amqp.connect(`amqp://pi1:device-password-1@127.0.0.1:${PORTS.amqp}`);
    try {
      const fits = await connection.createConfirmChannel();
      fits.publish('amq.topic', 'telemetry.room.pi1', Buffer.alloc(MAX_MESSAGE_BYTES, 'x'));
      await fits.waitForConfirms();
      await fits.close();

      const tooLarge = await connection.createConfirmChannel();
      const closed = new Promise<Error>((resolve) => tooLarge.once('error', resolve));
      tooLarge.publish('amq.topic', 'telemetry.room.pi1', Buffer.alloc(MAX_MESSAGE_BYTES + 1, 'x'));
      expect((await closed).message).toMatch(
        /PRECONDITION_FAILED.*larger than configured max size/,
      );
    } finally {
      await connection.close().catch(() => undefined);
    }

    expect(await queued()).toBe(before + 1);
  });

  it('refuses a renewed-away certificate once the CA revocation list names it, without a restart; the new certificate logs in', async () => {
    const tls = { ca: [caPem], servername: '127.0.0.1' };
    const renewed = await issueDeviceCertificate(ca, 'cert1');
    const externalLogin = (certificate: IssuedCertificate) =>
      amqp
        .connect(
          { protocol: 'amqps', hostname: '127.0.0.1', port: PORTS.amqps },
          {
            ...tls,
            cert: certificate.certificatePem,
            key: certificate.privateKeyPem,
            credentials: amqp.credentials.external(),
          },
        )
        .then(
          async (connection) => {
            await connection.close();
            return true;
          },
          () => false,
        );
    const mqttLogin = (certificate: IssuedCertificate) =>
      mqtt
        .connectAsync(`mqtts://127.0.0.1:${PORTS.mqtts}`, {
          clientId: 'cert1',
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 5_000,
          ...tls,
          cert: certificate.certificatePem,
          key: certificate.privateKeyPem,
        })
        .then(
          async (client) => {
            await client.endAsync();
            return true;
          },
          () => false,
        );
    expect(await externalLogin(certificateOnly)).toBe(true);
    expect(await externalLogin(renewed)).toBe(true);

    // As Fieldstation pushes it: the new list written next to the old one, then renamed over it.
    const listFile = path.join(
      dir,
      'tls',
      revocationListStackPath(caPem).slice('rabbitmq/tls/'.length),
    );
    writeFileSync(
      `${listFile}.new`,
      await createRevocationList(ca, [
        {
          serialNumber: certificateSerialNumber(certificateOnly.certificatePem),
          revokedAt: new Date(),
        },
      ]),
    );
    await run('chown', ['rabbitmq:rabbitmq', `${listFile}.new`]);
    renameSync(`${listFile}.new`, listFile);

    expect(await externalLogin(certificateOnly)).toBe(false);
    expect(await mqttLogin(certificateOnly)).toBe(false);
    expect(await externalLogin(renewed)).toBe(true);
    expect(await mqttLogin(renewed)).toBe(true);
    // Password devices present no certificate and are not affected.
    const plain = await amqp.connect(`amqps://pi1:device-password-1@127.0.0.1:${PORTS.amqps}`, tls);
    await plain.close();
  });

  it('keeps devices rotated or revoked at runtime across a restart: the unchanged definitions file is not imported again', async () => {
    const management = (method: string, resource: string, body?: object) =>
      fetch(`http://127.0.0.1:${PORTS.management}/api/${resource}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`fieldstation-admin:${spec.secrets.brokerAdminPassword}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    const logsIn = (user: string, password: string) =>
      amqp.connect(`amqp://${user}:${password}@127.0.0.1:${PORTS.amqp}`).then(
        async (connection) => {
          await connection.close();
          return true;
        },
        () => false,
      );
    expect(
      (await management('PUT', 'users/pi1', { password: 'device-password-2', tags: '' })).ok,
    ).toBe(true);
    expect((await management('DELETE', 'users/pi9')).status).toBe(204);

    await asRabbitmq('rabbitmqctl', ['-q', 'stop', env.RABBITMQ_PID_FILE]);
    await startBroker();

    expect(await logsIn('pi1', 'device-password-2')).toBe(true);
    expect(await logsIn('pi1', 'device-password-1')).toBe(false);
    expect(await logsIn('pi9', 'device-password-9')).toBe(false);
  }, 180_000);
});
