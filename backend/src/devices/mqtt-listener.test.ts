import { describe, expect, it } from 'vitest';
import type { Platform } from '../platforms/platform.entity';
import { mqttListener } from './device-registry';

const CA = '-----BEGIN CERTIFICATE-----\nplatform CA\n-----END CERTIFICATE-----\n';

function platform(ports: Partial<Platform['ports']>, tls: boolean): Platform {
  return {
    ports: { amqp: null, amqps: null, mqtt: null, mqtts: null, ...ports },
    tls,
    address: '203.0.113.7',
    caCertificatePem: tls ? CA : null,
  } as Platform;
}

describe('mqttListener (which MQTT listener a retained command is published to)', () => {
  it('takes the plaintext listener when the platform publishes it', () => {
    expect(mqttListener(platform({ mqtt: 1884 }, false))).toEqual({ port: 1884, tls: null });
    expect(mqttListener(platform({ mqtt: 1884, mqtts: 8883 }, true))).toEqual({
      port: 1884,
      tls: null,
    });
  });

  it('takes the TLS listener of a TLS platform, checked against its CA and address', () => {
    expect(mqttListener(platform({ mqtts: 8884 }, true))).toEqual({
      port: 8884,
      tls: { caCertificatePem: CA, serverName: '203.0.113.7' },
    });
  });

  it('has none when neither is published, or a TLS listener has no CA yet', () => {
    expect(mqttListener(platform({}, false))).toBeNull();
    expect(mqttListener({ ...platform({ mqtts: 8883 }, true), caCertificatePem: null })).toBeNull();
  });
});
