import amqp from 'amqplib';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { createStackSpec, generateStackSecrets, hashRabbitPassword, renderStack } from '../src';
import { renderRabbitmqConf, renderRabbitmqDefinitions } from '../src/rabbitmq/render-rabbitmq';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: start the test broker with \`eval "$(scripts/services/rabbitmq.sh start)"\``,
    );
  return value;
}

describe('rabbitmq configuration', () => {
  it('hashes passwords the way RabbitMQ does (salted SHA-256)', () => {
    // Known answer: salt 0x908dc60a, password "test12" (from RabbitMQ's password hashing docs).
    expect(hashRabbitPassword('test12', Buffer.from('908dc60a', 'hex'))).toBe(
      'kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR',
    );
  });

  it('renders the same files for the same spec (a re-applied platform changes nothing)', () => {
    const spec = createStackSpec({
      address: '198.51.100.1',
      database: 'postgres',
      secrets: generateStackSecrets(),
      deviceUsers: [{ name: 'pi1', password: 'device-password-1' }],
    });
    expect(renderStack(spec)).toEqual(renderStack(spec));
    const other = { ...spec, secrets: generateStackSecrets() };
    const hashOf = (of: typeof spec) =>
      (
        renderRabbitmqDefinitions(of) as { users: { name: string; password_hash: string }[] }
      ).users.find((user) => user.name === 'pi1')!.password_hash;
    expect(hashOf(other)).not.toBe(hashOf(spec));
  });

  it('renders no guest user and TLS listeners only when TLS is on', () => {
    const spec = createStackSpec({
      address: '198.51.100.1',
      database: 'postgres',
      secrets: generateStackSecrets(),
    });
    const conf = renderRabbitmqConf(spec);
    expect(conf).toContain('load_definitions = /etc/rabbitmq/definitions.json');
    expect(conf).not.toContain('listeners.ssl');
    expect(conf).not.toMatch(/default_user|guest/);
    const definitions = renderRabbitmqDefinitions(spec) as { users: { name: string }[] };
    expect(definitions.users.map((user) => user.name)).not.toContain('guest');
    const files = renderStack(spec).files;
    const secretsInFiles = files.filter((file) =>
      Object.values(spec.secrets).some((secret) => file.content.includes(secret)),
    );
    expect(secretsInFiles.map((file) => [file.path, file.mode])).toEqual([['.env', 0o600]]);
  });

  describe('imported into the real broker', () => {
    const amqpUrl = new URL(requireEnv('FS_TEST_AMQP_URL'));
    const apiUrl = requireEnv('FS_TEST_RABBITMQ_API_URL');
    const mqttUrl = requireEnv('FS_TEST_MQTT_URL');
    const authorization = `Basic ${Buffer.from(`${decodeURIComponent(amqpUrl.username)}:${decodeURIComponent(amqpUrl.password)}`).toString('base64')}`;
    const suffix = `${process.pid}-${Date.now().toString(36)}`;
    const vhost = `fs-defs-${suffix}`;
    const deviceName = `device-${suffix}`;
    const spec = createStackSpec({
      address: '198.51.100.1',
      database: 'postgres',
      secrets: generateStackSecrets(),
      deviceUsers: [{ name: deviceName, password: 'device-password-123' }],
    });
    // Users are global in RabbitMQ: rename the platform's fixed users so parallel runs never clash.
    const definitions = renderRabbitmqDefinitions(spec, vhost) as {
      users: { name: string }[];
      permissions: { user: string }[];
    };
    const rename = (name: string) =>
      name.startsWith('fieldstation-') ? `${name}-${suffix}` : name;
    for (const user of definitions.users) user.name = rename(user.name);
    for (const permission of definitions.permissions) permission.user = rename(permission.user);

    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${apiUrl}/api${path}`, {
        method,
        headers: { authorization, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok && response.status !== 404)
        throw new Error(`${method} ${path}: HTTP ${response.status} ${await response.text()}`);
      return response;
    };
    const urlFor = (user: string, password: string) => {
      const url = new URL(amqpUrl.href);
      url.username = encodeURIComponent(user);
      url.password = encodeURIComponent(password);
      url.pathname = `/${encodeURIComponent(vhost)}`;
      return url.href;
    };

    afterAll(async () => {
      await api('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
      for (const user of definitions.users)
        await api('DELETE', `/users/${encodeURIComponent(user.name)}`);
    });

    it('lets devices publish over AMQP and MQTT into the telemetry queue, and the processor user consume and dead-letter', async () => {
      await api('POST', '/definitions', definitions);

      const device = await amqp.connect(urlFor(deviceName, 'device-password-123'));
      const deviceChannel = await device.createConfirmChannel();
      deviceChannel.publish('amq.topic', 'telemetry.room.pi1', Buffer.from('{"data":{"t":1}}'));
      deviceChannel.publish('data', '', Buffer.from('{"measurement":"m","sensor":"s","data":{}}'));
      await deviceChannel.waitForConfirms();
      // Devices cannot read the telemetry queue.
      const denied = await device.createChannel();
      const closed = new Promise((resolve) => denied.once('error', resolve));
      await expect(denied.get('telemetry')).rejects.toThrow(/ACCESS_REFUSED/);
      await closed;
      await device.close();

      const client = await mqtt.connectAsync(mqttUrl, {
        username: `${vhost}:${deviceName}`,
        password: 'device-password-123',
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      await client.publishAsync('telemetry/room/pi2', '{"data":{"t":2}}', { qos: 1 });
      await client.endAsync();

      const processor = await amqp.connect(
        urlFor(`fieldstation-processor-${suffix}`, spec.secrets.processorBrokerPassword),
      );
      const channel = await processor.createConfirmChannel();
      await channel.assertQueue('telemetry', { durable: true });
      await channel.assertQueue('telemetry.dead-letter', { durable: true });
      await channel.bindQueue('telemetry', 'amq.topic', 'telemetry.#');
      await channel.assertExchange('data', 'fanout', { durable: true });
      await channel.bindQueue('telemetry', 'data', '');
      const keys: string[] = [];
      for (
        let message = await channel.get('telemetry');
        message;
        message = await channel.get('telemetry')
      ) {
        keys.push(message.fields.routingKey);
        channel.ack(message);
      }
      expect(keys).toEqual(['telemetry.room.pi1', '', 'telemetry.room.pi2']);
      channel.sendToQueue('telemetry.dead-letter', Buffer.from('x'));
      await channel.waitForConfirms();
      await processor.close();

      const admin = await amqp.connect(
        urlFor(`fieldstation-admin-${suffix}`, spec.secrets.brokerAdminPassword),
      );
      await admin.close();
    });
  });
});
