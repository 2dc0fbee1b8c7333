import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, drainQueue, queueDepth, type TestVhost } from './support/broker';
import { uniqueName } from './support/environment';
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { waitFor } from './support/wait';

const DEAD_LETTER_QUEUE = 'telemetry.dead-letter';

/**
 * MyT's fanout exchange `data` cannot restrict publishers by routing key, so the processor takes
 * the device from the AMQP user_id property, which the real RabbitMQ refuses unless it is the
 * publisher's login.
 */
describe('MyT fanout: the device is the broker-checked user_id', () => {
  let vhost: TestVhost;
  let store: ReadingStore;
  let processor: ProcessorProcess;
  const deviceA = uniqueName('myt-a');
  const deviceB = uniqueName('myt-b');
  let userA: { amqpUrl: string; delete(): Promise<void> };

  beforeAll(async () => {
    vhost = await createTestVhost();
    userA = await vhost.addUser(deviceA);
    store = await createReadingStore('postgres');
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
      ...store.processorEnv(),
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await store?.drop();
    await userA?.delete();
    await vhost?.delete();
  });

  it('stores a fanout message under its user_id, dead-letters one without user_id or naming another device, and the broker refuses a forged user_id', async () => {
    const connection = await amqp.connect(userA.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      const send = (body: object, userId?: string) =>
        channel.publish('data', '', Buffer.from(JSON.stringify(body)), {
          persistent: true,
          ...(userId === undefined ? {} : { userId }),
        });
      send({ measurement: 'fan', sensor: deviceA, data: { v: 1 } }, deviceA);
      send({ measurement: 'fan', data: { v: 2 } }, deviceA);
      send({ measurement: 'fan', sensor: deviceB, data: { v: 3 } }, deviceA);
      send({ measurement: 'fan', device: deviceB, data: { v: 4 } });
      await channel.waitForConfirms();

      // A user_id that is not the login: RabbitMQ closes the channel, nothing is routed.
      const forging = await connection.createConfirmChannel();
      const closed = new Promise<string>((resolve) =>
        forging.once('error', (error: Error) => resolve(error.message)),
      );
      forging.publish(
        'data',
        '',
        Buffer.from(JSON.stringify({ measurement: 'fan', data: { v: 5 } })),
        {
          userId: deviceB,
        },
      );
      expect(await closed).toMatch(/PRECONDITION_FAILED.*user_id/);
    } finally {
      await connection.close();
    }

    const rows = await waitFor('two fanout readings', async () => {
      const found = await store.readings('fan', 'v');
      return found.length >= 2 && found;
    });
    await waitFor(
      'two dead letters',
      async () => (await queueDepth(vhost.amqpUrl, DEAD_LETTER_QUEUE)) >= 2,
    );
    expect(rows.map(({ device, value }) => [device, value]).sort()).toEqual([
      [deviceA, 1],
      [deviceA, 2],
    ]);
    const letters = await drainQueue(vhost.amqpUrl, DEAD_LETTER_QUEUE);
    expect(
      letters.map((letter) => String(letter.properties.headers?.['x-fieldstation-reason'])).sort(),
    ).toEqual([
      `"sensor" in the body ("${deviceB}") is not the device that published it ("${deviceA}", from the user_id property)`,
      expect.stringMatching(/^a message on the fanout exchange "data" must carry the AMQP user_id/),
    ]);
    const status = await processor.status();
    expect(status).toMatchObject({ readingsOut: 2 });
  });
});
