import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, openPublisher, type TestVhost } from './support/broker';
import { uniqueName } from './support/environment';
import { ProcessorProcess } from './support/processor-process';
import { createReadingStore, type ReadingStore } from './support/reading-store';
import { waitFor } from './support/wait';

describe.each(['postgres', 'influxdb'] as const)('ingest into %s', (kind) => {
  let vhost: TestVhost;
  let store: ReadingStore;
  let processor: ProcessorProcess;
  const mytDevice = uniqueName('pi-myt');
  let myt: { amqpUrl: string; delete(): Promise<void> };

  beforeAll(async () => {
    vhost = await createTestVhost();
    myt = await vhost.addUser(mytDevice);
    store = await createReadingStore(kind);
    processor = await ProcessorProcess.start({
      AMQP_URL: vhost.amqpUrl,
      PROCESSOR_BATCH_MAX_WAIT_MS: '20',
      ...store.processorEnv(),
    });
  });

  afterAll(async () => {
    await processor?.stop();
    await store?.drop();
    await myt?.delete();
    await vhost?.delete();
  });

  it('stores an MQTT publish, an AMQP publish and a MyT fanout publish, keeping device timestamps', async () => {
    const client = await mqtt.connectAsync(vhost.mqttUrl, {
      username: vhost.mqttUsername,
      password: vhost.mqttPassword,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      await client.publishAsync(
        'telemetry/room/pi-mqtt',
        JSON.stringify({ ts: '2024-05-01T12:00:00.123Z', data: { temp: 21.5 } }),
        { qos: 1 },
      );
    } finally {
      await client.endAsync();
    }
    const publisher = await openPublisher(vhost.amqpUrl);
    try {
      publisher.publishJson('amq.topic', 'telemetry.room.pi-amqp', {
        ts: 1714564800456,
        data: { temp: 22 },
      });
      await publisher.confirmed();
    } finally {
      await publisher.close();
    }
    // A MyT device on the fanout names itself in user_id, which the broker checks is its login.
    const mytPublisher = await openPublisher(myt.amqpUrl);
    try {
      mytPublisher.publishJson(
        'data',
        '',
        { measurement: 'room', sensor: mytDevice, data: { temp: 23.25 } },
        mytDevice,
      );
      await mytPublisher.confirmed();
    } finally {
      await mytPublisher.close();
    }

    const rows = await waitFor('three readings in the database', async () => {
      const found = await store.readings('room', 'temp');
      return found.length >= 3 && found;
    });
    const byDevice = Object.fromEntries(rows.map((row) => [row.device, row]));
    expect(Object.keys(byDevice).sort()).toEqual(['pi-amqp', 'pi-mqtt', mytDevice].sort());
    expect(byDevice['pi-mqtt']).toMatchObject({
      time: Date.parse('2024-05-01T12:00:00.123Z'),
      value: 21.5,
    });
    expect(byDevice['pi-amqp']).toMatchObject({ time: 1714564800456, value: 22 });
    // Without a device timestamp the time of arrival is used.
    expect(byDevice[mytDevice].value).toBe(23.25);
    expect(Math.abs(byDevice[mytDevice].time - Date.now())).toBeLessThan(60_000);

    const status = await processor.status();
    expect(status).toMatchObject({ messagesIn: 3, readingsOut: 3, messagesFailed: 0 });
    expect(Date.now() - Date.parse(status.lastReadingAt!)).toBeLessThan(60_000);
    const drained = await waitFor('the queue depth sample', async () => {
      const { queueDepth } = await processor.status();
      return queueDepth === 0 && queueDepth;
    });
    expect(drained).toBe(0);
  });
});
