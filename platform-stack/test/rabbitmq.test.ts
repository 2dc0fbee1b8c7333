import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import mqtt, { type IClientOptions } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStackSpec, generateStackSecrets, hashRabbitPassword, renderStack } from '../src';
import {
  DEAD_LETTER_QUEUE,
  MYT_FANOUT_EXCHANGE,
  TELEMETRY_QUEUE,
  renderRabbitmqConf,
  renderRabbitmqDefinitions,
} from '../src/rabbitmq/render-rabbitmq';

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
    expect(conf).toContain('definitions.local.path = /etc/rabbitmq/definitions.json');
    expect(conf).toContain('definitions.skip_if_unchanged = true');
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
    const basicAuth = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const authorization = basicAuth(
      decodeURIComponent(amqpUrl.username),
      decodeURIComponent(amqpUrl.password),
    );
    const suffix = `${process.pid}-${Date.now().toString(36)}`;
    const vhost = `fs-defs-${suffix}`;
    const PASSWORD = 'device-password-123';
    // Two ordinary devices, one MyT device that still publishes to the fanout exchange, and one
    // for the persistent session (its client id is used by no earlier test: a clean session of
    // the same client id that the broker is still tearing down could delete the new session's
    // queue).
    const deviceA = `a-${suffix}`;
    const deviceB = `b-${suffix}`;
    const legacyDevice = `myt-${suffix}`;
    const sessionDevice = `s-${suffix}`;
    const spec = createStackSpec({
      address: '198.51.100.1',
      database: 'postgres',
      secrets: generateStackSecrets(),
      deviceUsers: [
        { name: deviceA, password: PASSWORD },
        { name: deviceB, password: PASSWORD },
        { name: legacyDevice, password: PASSWORD, legacyFanout: true },
        { name: sessionDevice, password: PASSWORD },
      ],
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
    const mqttOptions = (device: string, options: Partial<IClientOptions> = {}) => ({
      username: `${vhost}:${device}`,
      password: PASSWORD,
      clientId: device,
      protocolVersion: 4 as const,
      reconnectPeriod: 0,
      ...options,
    });
    const connectMqtt = (device: string, options: Partial<IClientOptions> = {}) =>
      mqtt.connectAsync(mqttUrl, mqttOptions(device, options));

    let processor: ChannelModel;
    let admin: ChannelModel;

    beforeAll(async () => {
      await api('POST', '/definitions', definitions);
      processor = await amqp.connect(
        urlFor(`fieldstation-processor-${suffix}`, spec.secrets.processorBrokerPassword),
      );
      admin = await amqp.connect(
        urlFor(`fieldstation-admin-${suffix}`, spec.secrets.brokerAdminPassword),
      );
    });

    afterAll(async () => {
      await processor?.close();
      await admin?.close();
      await api('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
      for (const user of definitions.users)
        await api('DELETE', `/users/${encodeURIComponent(user.name)}`);
    });

    /**
     * Consumes the telemetry queue as the processor until a message with `lastKey` arrives.
     * Everything published before that message (on an earlier confirm or a closed connection)
     * was routed before it, so what this returns is all that reached the queue meanwhile.
     */
    async function telemetryUntil(lastKey: string): Promise<string[]> {
      const channel = await processor.createChannel();
      const seen: string[] = [];
      await new Promise<void>((resolve, reject) => {
        channel
          .consume(TELEMETRY_QUEUE, (message) => {
            if (!message) return;
            seen.push(`${message.fields.exchange} ${message.fields.routingKey}`);
            channel.ack(message);
            if (message.fields.routingKey === lastKey) resolve();
          })
          .catch(reject);
      });
      await channel.close();
      return seen;
    }

    /** Publishes a reading as `device` over AMQP and waits for the broker's confirm. */
    async function publishAmqp(device: string, exchange: string, routingKey: string) {
      const connection = await amqp.connect(urlFor(device, PASSWORD));
      const channel = await connection.createConfirmChannel();
      channel.publish(exchange, routingKey, Buffer.from('{"data":{"t":1}}'));
      await channel.waitForConfirms();
      await connection.close();
    }

    /**
     * Runs `operation` on a fresh channel: 'allowed', or 'refused' when the broker closed the
     * channel with ACCESS_REFUSED (anything else is returned as it is, so it fails the test).
     */
    async function amqpOutcome(
      connection: ChannelModel,
      operation: (channel: ConfirmChannel) => unknown,
    ): Promise<string> {
      const channel = await connection.createConfirmChannel();
      const closedWith = new Promise<string>((resolve) =>
        channel.once('error', (error: Error) => resolve(error.message)),
      );
      try {
        await operation(channel);
        await channel.waitForConfirms();
      } catch {
        const reason = await closedWith;
        return /ACCESS_REFUSED/.test(reason) ? 'refused' : reason;
      }
      await channel.close();
      return 'allowed';
    }

    /**
     * Subscribes as `device` on a connection of its own. RabbitMQ 3.10 refuses by closing the
     * connection; newer brokers answer with the failure code 0x80: both count as refused.
     */
    async function subscribeOutcome(
      device: string,
      topic: string,
      options: { clientId?: string; qos?: 0 | 1 } = {},
    ): Promise<string> {
      const client = await connectMqtt(
        device,
        options.clientId ? { clientId: options.clientId } : {},
      );
      const closed = new Promise<string>((resolve) =>
        client.once('close', () => resolve('refused')),
      );
      const granted = client.subscribeAsync(topic, { qos: options.qos ?? 1 }).then(
        (grants) => (grants.every((grant) => grant.qos !== 128) ? 'granted' : 'refused'),
        () => 'refused',
      );
      const outcome = await Promise.race([granted, closed]);
      await client.endAsync(true);
      return outcome;
    }

    /** Publishes with QoS 1 as `device`: 'accepted' on PUBACK, 'refused' when the broker closes instead. */
    async function publishOutcome(device: string, topic: string): Promise<string> {
      const client = await connectMqtt(device);
      const closed = new Promise<string>((resolve) =>
        client.once('close', () => resolve('refused')),
      );
      const acknowledged = client.publishAsync(topic, '{"data":{"t":2}}', { qos: 1 }).then(
        () => 'accepted',
        () => 'refused',
      );
      const outcome = await Promise.race([acknowledged, closed]);
      await client.endAsync(true);
      return outcome;
    }

    it('lets devices publish over AMQP and MQTT into the telemetry queue, and the processor user consume and dead-letter', async () => {
      const device = await amqp.connect(urlFor(deviceA, PASSWORD));
      const deviceChannel = await device.createConfirmChannel();
      deviceChannel.publish('amq.topic', `telemetry.room.${deviceA}`, Buffer.from('{"data":{}}'));
      await deviceChannel.waitForConfirms();
      await device.close();
      await publishAmqp(legacyDevice, MYT_FANOUT_EXCHANGE, '');
      const client = await connectMqtt(deviceA);
      await client.publishAsync(`telemetry/room/${deviceA}`, '{"data":{"t":2}}', { qos: 1 });
      await client.endAsync();

      const channel = await processor.createConfirmChannel();
      await channel.assertQueue('telemetry', { durable: true });
      await channel.assertQueue('telemetry.dead-letter', { durable: true });
      await channel.bindQueue('telemetry', 'amq.topic', 'telemetry.#');
      await channel.assertExchange('data', 'fanout', { durable: true });
      await channel.bindQueue('telemetry', 'data', '');
      channel.sendToQueue('telemetry.dead-letter', Buffer.from('x'));
      await channel.waitForConfirms();
      await channel.close();
      expect(await telemetryUntil(`telemetry.room.${deviceA}`)).toEqual([
        `amq.topic telemetry.room.${deviceA}`,
        'data ',
        `amq.topic telemetry.room.${deviceA}`,
      ]);
    });

    it('lets a device publish only telemetry under its own name: nothing reaches the queue as another device', async () => {
      const device = await amqp.connect(urlFor(deviceA, PASSWORD));
      const publish = (exchange: string, routingKey: string) => (channel: ConfirmChannel) =>
        channel.publish(exchange, routingKey, Buffer.from('{"data":{}}'));
      expect({
        own: await amqpOutcome(device, publish('amq.topic', `telemetry.amqp.${deviceA}`)),
        asB: await amqpOutcome(device, publish('amq.topic', `telemetry.amqp.${deviceB}`)),
        longerKey: await amqpOutcome(device, publish('amq.topic', `telemetry.amqp.${deviceA}.x`)),
        commandToB: await amqpOutcome(device, publish('amq.topic', `commands.${deviceB}.x`)),
        straightIntoQueue: await amqpOutcome(device, publish('', TELEMETRY_QUEUE)),
      }).toEqual({
        own: 'allowed',
        asB: 'refused',
        longerKey: 'refused',
        commandToB: 'refused',
        straightIntoQueue: 'refused',
      });
      await device.close();

      expect({
        own: await publishOutcome(deviceA, `telemetry/mqtt/${deviceA}`),
        asB: await publishOutcome(deviceA, `telemetry/mqtt/${deviceB}`),
        commandToB: await publishOutcome(deviceA, `commands/${deviceB}/x`),
      }).toEqual({ own: 'accepted', asB: 'refused', commandToB: 'refused' });

      // A last will is published by the broker when the connection drops: under B's name it is
      // refused too. The second connection's will is the end marker (its connection started
      // after the first one was gone).
      for (const topic of [`telemetry/will/${deviceB}`, `telemetry/will/${deviceA}`]) {
        const client = await connectMqtt(deviceA, {
          will: { topic, payload: '{"data":{}}', qos: 1 },
        });
        const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
        client.stream.destroy();
        await closed;
      }
      expect(await telemetryUntil(`telemetry.will.${deviceA}`)).toEqual([
        `amq.topic telemetry.amqp.${deviceA}`,
        `amq.topic telemetry.mqtt.${deviceA}`,
        `amq.topic telemetry.will.${deviceA}`,
      ]);
    });

    it('lets a device subscribe only to its own commands, which reach it and no other device', async () => {
      expect({
        allTelemetry: await subscribeOutcome(deviceA, 'telemetry/#'),
        everything: await subscribeOutcome(deviceA, '#'),
        commandsOfB: await subscribeOutcome(deviceA, `commands/${deviceB}/#`),
        allCommands: await subscribeOutcome(deviceA, 'commands/+/#'),
        ownTelemetry: await subscribeOutcome(deviceA, `telemetry/+/${deviceA}`),
      }).toEqual({
        allTelemetry: 'refused',
        everything: 'refused',
        commandsOfB: 'refused',
        allCommands: 'refused',
        ownTelemetry: 'refused',
      });

      const received = new Map<string, string[]>();
      const clients = await Promise.all(
        [deviceA, deviceB].map(async (device) => {
          const client = await connectMqtt(device);
          received.set(device, []);
          client.on('message', (topic) => received.get(device)!.push(topic));
          expect(await client.subscribeAsync(`commands/${device}/#`, { qos: 1 })).toEqual([
            { topic: `commands/${device}/#`, qos: 1 },
          ]);
          return client;
        }),
      );
      // Queues are FIFO and one channel publishes in order: had a device received the other's
      // command, it would have arrived before the command awaited below.
      const arrived = (device: string, topic: string) =>
        new Promise<void>((resolve) => {
          const client = clients[device === deviceA ? 0 : 1];
          const check = () => received.get(device)!.includes(topic) && resolve();
          client.on('message', check);
          check();
        });
      const waitA = arrived(deviceA, `commands/${deviceA}/reboot`);
      const waitB = arrived(deviceB, `commands/${deviceB}/done`);
      const channel = await admin.createConfirmChannel();
      for (const key of [
        `commands.${deviceB}.reboot`,
        `commands.${deviceA}.reboot`,
        `commands.${deviceB}.done`,
      ])
        channel.publish('amq.topic', key, Buffer.from('{}'));
      await channel.waitForConfirms();
      await channel.close();
      await Promise.all([waitA, waitB]);
      await Promise.all(clients.map((client) => client.endAsync()));
      expect(Object.fromEntries(received)).toEqual({
        [deviceA]: [`commands/${deviceA}/reboot`],
        [deviceB]: [`commands/${deviceB}/reboot`, `commands/${deviceB}/done`],
      });
    });

    it('refuses MQTT subscriptions whose client id is not the device name (session queues carry it)', async () => {
      expect({
        otherIdQos1: await subscribeOutcome(deviceA, `commands/${deviceA}/#`, {
          clientId: `${deviceA}-2`,
        }),
        otherIdQos0: await subscribeOutcome(deviceA, `commands/${deviceA}/#`, {
          clientId: `${deviceA}-2`,
          qos: 0,
        }),
        bWithIdOfA: await subscribeOutcome(deviceB, `commands/${deviceA}/#`, { clientId: deviceA }),
        bWithIdOfAOwnTopic: await subscribeOutcome(deviceB, `commands/${deviceB}/#`, {
          clientId: deviceA,
        }),
        ownId: await subscribeOutcome(deviceA, `commands/${deviceA}/#`),
      }).toEqual({
        otherIdQos1: 'refused',
        otherIdQos0: 'refused',
        bWithIdOfA: 'refused',
        bWithIdOfAOwnTopic: 'refused',
        ownId: 'granted',
      });
    });

    it('keeps a persistent MQTT session: a command sent while the device is offline arrives when it reconnects', async () => {
      const persistent = { clean: false };
      const first = await connectMqtt(sessionDevice, persistent);
      await first.subscribeAsync(`commands/${sessionDevice}/#`, { qos: 1 });
      await first.endAsync();
      const channel = await admin.createConfirmChannel();
      channel.publish('amq.topic', `commands.${sessionDevice}.offline`, Buffer.from('{}'), {
        persistent: true,
      });
      await channel.waitForConfirms();
      await channel.close();
      // Listening before the connection is up: the queued command may come with the CONNACK.
      const again = mqtt.connect(mqttUrl, mqttOptions(sessionDevice, persistent));
      const topic = await new Promise<string>((resolve) => again.once('message', resolve));
      await again.endAsync();
      // A clean session deletes the session queue again.
      await (await connectMqtt(sessionDevice)).endAsync();
      expect(topic).toBe(`commands/${sessionDevice}/offline`);
    });

    it('refuses a device any other queue, exchange or binding over AMQP', async () => {
      const device = await amqp.connect(urlFor(deviceA, PASSWORD));
      // The QoS 0 session queue: no MQTT session of this device exists, so any arguments fit.
      const sessionQueue = `mqtt-subscription-${deviceA}qos0`;
      expect({
        declareQueue: await amqpOutcome(device, (channel) => channel.assertQueue(`q-${deviceA}`)),
        declareExchange: await amqpOutcome(device, (channel) =>
          channel.assertExchange(`x-${deviceA}`, 'topic'),
        ),
        declareOwnSessionQueue: await amqpOutcome(device, (channel) =>
          channel.assertQueue(sessionQueue, { exclusive: true }),
        ),
        bindOwnCommands: await amqpOutcome(device, (channel) =>
          channel.bindQueue(sessionQueue, 'amq.topic', `commands.${deviceA}.#`),
        ),
        bindEverything: await amqpOutcome(device, (channel) =>
          channel.bindQueue(sessionQueue, 'amq.topic', '#'),
        ),
        bindTelemetry: await amqpOutcome(device, (channel) =>
          channel.bindQueue(sessionQueue, 'amq.topic', 'telemetry.#'),
        ),
        bindCommandsOfB: await amqpOutcome(device, (channel) =>
          channel.bindQueue(sessionQueue, 'amq.topic', `commands.${deviceB}.#`),
        ),
        bindFanout: await amqpOutcome(device, (channel) =>
          channel.bindQueue(sessionQueue, MYT_FANOUT_EXCHANGE, ''),
        ),
        bindTelemetryQueue: await amqpOutcome(device, (channel) =>
          channel.bindQueue(TELEMETRY_QUEUE, 'amq.topic', '#'),
        ),
        declareSessionQueueOfB: await amqpOutcome(device, (channel) =>
          channel.assertQueue(`mqtt-subscription-${deviceB}qos1`),
        ),
        deleteSessionQueueOfB: await amqpOutcome(device, (channel) =>
          channel.deleteQueue(`mqtt-subscription-${deviceB}qos1`),
        ),
        getTelemetry: await amqpOutcome(device, (channel) => channel.get(TELEMETRY_QUEUE)),
        consumeTelemetry: await amqpOutcome(device, (channel) =>
          channel.consume(TELEMETRY_QUEUE, () => undefined),
        ),
        purgeTelemetry: await amqpOutcome(device, (channel) => channel.purgeQueue(TELEMETRY_QUEUE)),
        deleteTelemetry: await amqpOutcome(device, (channel) =>
          channel.deleteQueue(TELEMETRY_QUEUE),
        ),
        consumeDeadLetters: await amqpOutcome(device, (channel) => channel.get(DEAD_LETTER_QUEUE)),
        deleteOwnSessionQueue: await amqpOutcome(device, (channel) =>
          channel.deleteQueue(sessionQueue),
        ),
      }).toEqual({
        declareQueue: 'refused',
        declareExchange: 'refused',
        declareOwnSessionQueue: 'allowed',
        bindOwnCommands: 'allowed',
        bindEverything: 'refused',
        bindTelemetry: 'refused',
        bindCommandsOfB: 'refused',
        bindFanout: 'refused',
        bindTelemetryQueue: 'refused',
        declareSessionQueueOfB: 'refused',
        deleteSessionQueueOfB: 'refused',
        getTelemetry: 'refused',
        consumeTelemetry: 'refused',
        purgeTelemetry: 'refused',
        deleteTelemetry: 'refused',
        consumeDeadLetters: 'refused',
        deleteOwnSessionQueue: 'allowed',
      });
      await device.close();
    });

    it("refuses a device's login to the management API", async () => {
      const asDevice = await fetch(`${apiUrl}/api/whoami`, {
        headers: { authorization: basicAuth(deviceA, PASSWORD) },
      });
      const asAdmin = await fetch(`${apiUrl}/api/whoami`, {
        headers: {
          authorization: basicAuth(
            `fieldstation-admin-${suffix}`,
            spec.secrets.brokerAdminPassword,
          ),
        },
      });
      expect([asDevice.status, asAdmin.status]).toEqual([401, 200]);
    });

    it('allows the MyT fanout exchange only to devices created with legacyFanout', async () => {
      const outcomes: Record<string, string> = {};
      for (const device of [deviceA, legacyDevice]) {
        const connection = await amqp.connect(urlFor(device, PASSWORD));
        outcomes[device] = await amqpOutcome(connection, (channel) =>
          channel.publish(MYT_FANOUT_EXCHANGE, '', Buffer.from('{"sensor":"s","data":{}}')),
        );
        await connection.close();
      }
      expect(outcomes).toEqual({ [deviceA]: 'refused', [legacyDevice]: 'allowed' });
      await publishAmqp(legacyDevice, 'amq.topic', `telemetry.fanout.${legacyDevice}`);
      expect(await telemetryUntil(`telemetry.fanout.${legacyDevice}`)).toEqual([
        'data ',
        `amq.topic telemetry.fanout.${legacyDevice}`,
      ]);
    });
  });
});
