import type { Schemas } from '../../api/client';

type Connection = Schemas['ConnectionDto'];

/** One device's broker login (shown once: at creation, rotation, or a launch device's reveal). */
export interface DeviceLogin {
  username: string;
  password: string;
}

export interface Snippet {
  id: string;
  label: string;
  /** What the snippet talks: the broker protocol. */
  protocol: 'MQTT' | 'AMQP';
  language: string;
  code: string;
}

/** The CA file name every TLS snippet refers to (the page offers it as a download). */
export const CA_FILE = 'fieldstation-ca.pem';
export const EXAMPLE_MEASUREMENT = 'room';

const py = (value: string) => JSON.stringify(value);
const js = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const sh = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/**
 * Ready-to-paste device code for one device login, filled with the platform's host, ports,
 * credentials and topic (DESIGN §8: JSON readings to `telemetry/<measurement>/<device>`, or to
 * `amq.topic` with routing key `telemetry.<measurement>.<device>`).
 */
export function deviceSnippets(connection: Connection, device: DeviceLogin): Snippet[] {
  const { host, tls, ports } = connection;
  const mqttPort = (tls ? ports.mqtts : ports.mqtt) ?? (tls ? 8883 : 1883);
  const amqpPort = (tls ? ports.amqps : ports.amqp) ?? (tls ? 5671 : 5672);
  const user = device.username;
  const topic = `telemetry/${EXAMPLE_MEASUREMENT}/${user}`;
  const routingKey = `telemetry.${EXAMPLE_MEASUREMENT}.${user}`;
  const reading = { measurement: EXAMPLE_MEASUREMENT, device: user, data: { temp: 21.5 } };
  const readingJson = JSON.stringify(reading);
  const readingPy = `{"measurement": ${py(EXAMPLE_MEASUREMENT)}, "device": ${py(user)}, "data": {"temp": 21.5}}`;
  const lines = (...parts: (string | false)[]) =>
    parts.filter((part): part is string => part !== false).join('\n');

  const paho = lines(
    '# pip install "paho-mqtt>=2"',
    'import json',
    'import paho.mqtt.client as mqtt',
    '',
    `client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=${py(user)})`,
    `client.username_pw_set(${py(user)}, ${py(device.password)})`,
    tls && `client.tls_set(ca_certs=${py(CA_FILE)})`,
    `client.connect(${py(host)}, ${mqttPort})`,
    'client.loop_start()',
    '',
    `reading = ${readingPy}`,
    `client.publish(${py(topic)}, json.dumps(reading), qos=1).wait_for_publish()`,
    '',
    'client.loop_stop()',
    'client.disconnect()',
  );

  const pika = lines(
    '# pip install pika',
    'import json',
    tls && 'import ssl',
    'import pika',
    '',
    `credentials = pika.PlainCredentials(${py(user)}, ${py(device.password)})`,
    tls && `context = ssl.create_default_context(cafile=${py(CA_FILE)})`,
    'parameters = pika.ConnectionParameters(',
    `    host=${py(host)},`,
    `    port=${amqpPort},`,
    '    credentials=credentials,',
    tls && `    ssl_options=pika.SSLOptions(context, ${py(host)}),`,
    ')',
    'connection = pika.BlockingConnection(parameters)',
    'channel = connection.channel()',
    '',
    `reading = ${readingPy}`,
    'channel.basic_publish(',
    `    exchange=${py(connection.amqpExchange)},`,
    `    routing_key=${py(routingKey)},`,
    '    body=json.dumps(reading),',
    '    properties=pika.BasicProperties(content_type="application/json", delivery_mode=2),',
    ')',
    'connection.close()',
  );

  const node = lines(
    '// npm install mqtt   (save as publish.mjs, run with node publish.mjs)',
    tls && "import { readFileSync } from 'node:fs';",
    "import mqtt from 'mqtt';",
    '',
    `const client = await mqtt.connectAsync(${js(`${tls ? 'mqtts' : 'mqtt'}://${host}:${mqttPort}`)}, {`,
    `  username: ${js(user)},`,
    `  password: ${js(device.password)},`,
    tls && `  ca: readFileSync(${js(CA_FILE)}),`,
    '});',
    `const reading = ${JSON.stringify(reading, null, 0)};`,
    `await client.publishAsync(${js(topic)}, JSON.stringify(reading), { qos: 1 });`,
    'await client.endAsync();',
  );

  const pem = connection.caCertificatePem?.trim() ?? '';
  const arduino = lines(
    '// ESP32 (for ESP8266 include <ESP8266WiFi.h> instead of <WiFi.h>); library: PubSubClient',
    '#include <WiFi.h>',
    tls && '#include <WiFiClientSecure.h>',
    '#include <PubSubClient.h>',
    '',
    'const char* WIFI_SSID = "your-wifi";',
    'const char* WIFI_PASSWORD = "your-wifi-password";',
    `const char* MQTT_HOST = ${py(host)};`,
    `const uint16_t MQTT_PORT = ${mqttPort};`,
    `const char* MQTT_USER = ${py(user)};`,
    `const char* MQTT_PASSWORD = ${py(device.password)};`,
    `const char* MQTT_TOPIC = ${py(topic)};`,
    tls && `const char* CA_CERT = R"PEM(\n${pem}\n)PEM";`,
    '',
    tls ? 'WiFiClientSecure net;' : 'WiFiClient net;',
    'PubSubClient mqtt(net);',
    '',
    'void setup() {',
    '  Serial.begin(115200);',
    '  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);',
    '  while (WiFi.status() != WL_CONNECTED) delay(500);',
    tls && '  net.setCACert(CA_CERT);',
    '  mqtt.setServer(MQTT_HOST, MQTT_PORT);',
    '}',
    '',
    'void loop() {',
    '  if (!mqtt.connected() && !mqtt.connect(MQTT_USER, MQTT_USER, MQTT_PASSWORD)) {',
    '    Serial.printf("MQTT connect failed (state %d)\\n", mqtt.state());',
    '    delay(5000);',
    '    return;',
    '  }',
    '  mqtt.loop();',
    '  char payload[160];',
    '  float temp = 21.5;  // read your sensor here',
    '  snprintf(payload, sizeof payload,',
    `           "{\\"measurement\\":\\"${EXAMPLE_MEASUREMENT}\\",\\"device\\":\\"%s\\",\\"data\\":{\\"temp\\":%.1f}}",`,
    '           MQTT_USER, temp);',
    '  mqtt.publish(MQTT_TOPIC, payload);',
    '  delay(10000);',
    '}',
  );

  const mosquitto = lines(
    `mosquitto_pub -h ${sh(host)} -p ${mqttPort} -q 1 \\`,
    `  -u ${sh(user)} -P ${sh(device.password)} \\`,
    tls && `  --cafile ${CA_FILE} \\`,
    `  -t ${sh(topic)} \\`,
    `  -m ${sh(readingJson)}`,
  );

  return [
    { id: 'paho', label: 'Python paho-mqtt', protocol: 'MQTT', language: 'python', code: paho },
    { id: 'pika', label: 'Python pika', protocol: 'AMQP', language: 'python', code: pika },
    { id: 'node-mqtt', label: 'Node mqtt', protocol: 'MQTT', language: 'javascript', code: node },
    {
      id: 'arduino',
      label: 'Arduino PubSubClient',
      protocol: 'MQTT',
      language: 'cpp',
      code: arduino,
    },
    {
      id: 'mosquitto',
      label: 'mosquitto_pub',
      protocol: 'MQTT',
      language: 'shell',
      code: mosquitto,
    },
  ];
}
