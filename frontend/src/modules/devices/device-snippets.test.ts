import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../api/client';
import { deviceSnippets } from './device-snippets';

const login = { username: 'pi-1', password: "pa'ss" };

const connection: Schemas['ConnectionDto'] = {
  host: '203.0.113.10',
  mqttUrl: 'mqtt://203.0.113.10:11883',
  amqpUrl: 'amqp://203.0.113.10:5672',
  ports: {
    amqp: 5672,
    amqps: null,
    mqtt: 11883,
    mqtts: null,
    rabbitmqManagement: 15672,
    grafana: 3000,
  },
  tls: false,
  caCertificatePem: null,
  devices: [{ username: 'pi-1', passwordRevealed: false }],
  mqttTopic: 'telemetry/<measurement>/<device>',
  amqpExchange: 'amq.topic',
  amqpRoutingKey: 'telemetry.<measurement>.<device>',
  grafanaUrl: 'http://127.0.0.1:3000',
  grafanaTunnel: 'ssh -N -L 3000:127.0.0.1:3000 -p 22 pi@203.0.113.10',
  grafanaUsername: 'admin',
  grafanaPasswordRevealed: false,
};
const code = (id: string, conn = connection) =>
  deviceSnippets(conn, login).find((snippet) => snippet.id === id)!.code;

describe('deviceSnippets', () => {
  it('fills every snippet with the host, port, login and topic', () => {
    const snippets = deviceSnippets(connection, login);
    expect(snippets.map((snippet) => snippet.label)).toEqual([
      'Python paho-mqtt',
      'Python pika',
      'Node mqtt',
      'Arduino PubSubClient',
      'mosquitto_pub',
    ]);
    expect(code('paho')).toContain('client.connect("203.0.113.10", 11883)');
    expect(code('paho')).toContain('client.publish("telemetry/room/pi-1"');
    expect(code('pika')).toContain('routing_key="telemetry.room.pi-1"');
    expect(code('pika')).toContain('port=5672');
    expect(code('node-mqtt')).toContain("'mqtt://203.0.113.10:11883'");
    expect(code('node-mqtt')).toContain("password: 'pa\\'ss'");
    expect(code('arduino')).toContain('const uint16_t MQTT_PORT = 11883;');
    expect(code('mosquitto')).toBe(
      [
        "mosquitto_pub -h '203.0.113.10' -p 11883 -q 1 \\",
        "  -u 'pi-1' -P 'pa'\\''ss' \\",
        "  -t 'telemetry/room/pi-1' \\",
        '  -m \'{"measurement":"room","device":"pi-1","data":{"temp":21.5}}\'',
      ].join('\n'),
    );
    for (const snippet of snippets) expect(snippet.code).not.toContain('cafile');
  });

  it('uses the TLS ports and the CA file when TLS is on', () => {
    const secure = {
      ...connection,
      tls: true,
      ports: { ...connection.ports, mqtt: null, amqp: null, mqtts: 8883, amqps: 5671 },
      caCertificatePem: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----',
    };
    expect(code('paho', secure)).toContain('client.tls_set(ca_certs="fieldstation-ca.pem")');
    expect(code('pika', secure)).toContain('port=5671');
    expect(code('node-mqtt', secure)).toContain("'mqtts://203.0.113.10:8883'");
    expect(code('arduino', secure)).toContain('-----BEGIN CERTIFICATE-----\nAAA');
    expect(code('mosquitto', secure)).toContain('--cafile fieldstation-ca.pem');
  });
});
