import { describe, expect, it } from 'vitest';
import {
  InvalidMessageError,
  messageSource,
  parseTelemetryMessage,
  validateReading,
} from './reading';

const RECEIVED_AT = 1_700_000_000_000;
const parse = (
  body: unknown,
  routingKey = 'telemetry.room.pi1',
  exchange = 'amq.topic',
  userId?: string,
) =>
  parseTelemetryMessage(
    Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    { exchange, routingKey, userId },
    RECEIVED_AT,
  );

describe('parseTelemetryMessage', () => {
  it('takes measurement and device from the routing key when the body has none', () => {
    expect(parse({ data: { temp: 1 } })).toEqual({
      measurement: 'room',
      device: 'pi1',
      time: RECEIVED_AT,
      data: { temp: 1 },
    });
  });

  it("keeps the body's device when it is the one of the routing key, and its measurement", () => {
    expect(parse({ measurement: 'climate', device: 'pi1', data: {} })).toMatchObject({
      measurement: 'climate',
      device: 'pi1',
    });
    expect(parse({ sensor: 'pi1', data: {} })).toMatchObject({ device: 'pi1' });
  });

  it.each([
    [
      { device: 'pi2', data: {} },
      '"device" in the body ("pi2") is not the device that published it ("pi1", from the routing key)',
    ],
    [
      { sensor: 'pi2', data: {} },
      '"sensor" in the body ("pi2") is not the device that published it ("pi1", from the routing key)',
    ],
    [
      { device: 'PI1', data: {} },
      '"device" in the body ("PI1") is not the device that published it ("pi1", from the routing key)',
    ],
  ])(
    'refuses %j on telemetry.room.pi1: a device cannot write as another (dead-lettered with the reason)',
    (body, reason) => {
      expect(() => parse(body)).toThrow(new InvalidMessageError(reason));
    },
  );

  it("takes MyT's fanout messages' device from the broker-checked user_id, never from the routing key or the body alone", () => {
    expect(
      parse({ measurement: 'sensorData', sensor: 'myt', data: {} }, '', 'data', 'myt'),
    ).toMatchObject({ measurement: 'sensorData', device: 'myt' });
    // On the fanout exchange the publisher chooses the routing key freely: it names no one.
    expect(
      parse({ measurement: 'm', data: {} }, 'telemetry.room.pi1', 'data', 'myt'),
    ).toMatchObject({ device: 'myt' });
    expect(() => parse({ measurement: 'm', sensor: 'pi1', data: {} }, '', 'data', 'myt')).toThrow(
      new InvalidMessageError(
        '"sensor" in the body ("pi1") is not the device that published it ("myt", from the user_id property)',
      ),
    );
    for (const userId of [undefined, '']) {
      expect(() =>
        parse({ measurement: 'm', sensor: 'myt', data: {} }, '', 'data', userId),
      ).toThrow(/fanout exchange "data" must carry the AMQP user_id property/);
    }
  });

  it("takes the body's device on keys that no device may publish (the platform's own users)", () => {
    expect(parse({ measurement: 'm', device: 'pi2', data: {} }, 'telemetry.a.b.c')).toMatchObject({
      device: 'pi2',
    });
  });

  it('keeps ISO-8601 and epoch-millisecond device timestamps', () => {
    expect(parse({ ts: '2024-05-01T12:00:00.123Z', data: {} }).time).toBe(
      Date.parse('2024-05-01T12:00:00.123Z'),
    );
    expect(parse({ ts: 1714564800456, data: {} }).time).toBe(1714564800456);
  });

  it.each([
    ['not json', 'message is not valid JSON'],
    ['[1,2]', 'message is not a JSON object'],
    [{ data: 5 }, 'message has no "data" object'],
    [{ ts: 'yesterday', data: {} }, '"ts" is not a valid timestamp'],
    [{ ts: true, data: {} }, '"ts" must be an ISO-8601 string or epoch milliseconds'],
    [{ device: 7, data: {} }, '"device" must be a non-empty string of at most 200 characters'],
  ])('rejects %j with a reason', (body, reason) => {
    expect(() => parse(body)).toThrow(new InvalidMessageError(reason));
  });

  it('rejects a message whose names are neither in the body nor in the routing key', () => {
    expect(() => parse({ data: {} }, 'something.else')).toThrow('message has no measurement');
  });
});

describe('validateReading', () => {
  it('accepts a Date, an ISO string or epoch ms as the time', () => {
    const base = { measurement: 'm', device: 'd', data: {} };
    expect(validateReading({ ...base, time: new Date(5) }).time).toBe(5);
    expect(validateReading({ ...base, ts: '1970-01-01T00:00:00.007Z' }).time).toBe(7);
    expect(validateReading({ ...base, time: 9 }).time).toBe(9);
  });

  it('rejects a reading without a time or data', () => {
    expect(() => validateReading({ measurement: 'm', device: 'd', data: {} })).toThrow(
      'without a valid time',
    );
    expect(() => validateReading({ measurement: 'm', device: 'd', time: 1 })).toThrow(
      'without a "data" object',
    );
  });
});

describe('messageSource', () => {
  const headers = {
    'x-original-exchange': 'data',
    'x-original-routing-key': '',
    'x-original-user-id': 'pi7',
  };

  it('takes a replayed dead letter (default exchange) from the origin the queue recorded', () => {
    expect(
      messageSource({ fields: { exchange: '', routingKey: 'telemetry' }, properties: { headers } }),
    ).toEqual({ exchange: 'data', routingKey: '', userId: 'pi7' });
  });

  it('ignores origin headers on a message a device published', () => {
    expect(
      messageSource({
        fields: { exchange: 'amq.topic', routingKey: 'telemetry.room.pi1' },
        properties: { headers, userId: undefined },
      }),
    ).toEqual({ exchange: 'amq.topic', routingKey: 'telemetry.room.pi1', userId: undefined });
  });
});
