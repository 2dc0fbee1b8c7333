import { execFileSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import amqp from 'amqplib';
import mqtt from 'mqtt';

/** Test-side access to a launched platform: its containers through the test dockerd, its broker over the published ports. */
export class PlatformProbe {
  constructor(
    private readonly dockerHost: string,
    private readonly composeProject: string,
  ) {}

  docker(...args: string[]): string {
    return execFileSync('docker', args, {
      env: { ...process.env, DOCKER_HOST: this.dockerHost },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Every container (running or not) labelled with the platform's compose project. */
  containers(): string[] {
    return this.docker(
      'ps',
      '--all',
      '--quiet',
      '--filter',
      `label=com.docker.compose.project=${this.composeProject}`,
    )
      .split('\n')
      .filter(Boolean);
  }

  /** The running container of one compose service of the platform (`database`, `rabbitmq`, …). */
  container(service: string): string {
    const [id] = this.docker(
      'ps',
      '--quiet',
      '--filter',
      `label=com.docker.compose.project=${this.composeProject}`,
      '--filter',
      `label=com.docker.compose.service=${service}`,
    ).split('\n');
    if (!id) throw new Error(`no ${service} container in ${this.composeProject}`);
    return id;
  }

  /** One fixed query on the platform's PostgreSQL `telemetry` database; its rows, unaligned. */
  sql(query: string): string {
    return this.docker(
      'exec',
      this.container('database'),
      'psql',
      '--username=postgres',
      '--dbname=telemetry',
      '--tuples-only',
      '--no-align',
      '--command',
      query,
    );
  }

  /**
   * Stored readings as `{device, data}`, oldest first (PostgreSQL `readings`, with `measurement`,
   * or InfluxDB measurement `room`).
   */
  readings(database: 'postgres' | 'influxdb'): StoredReading[] {
    if (database === 'postgres') {
      const out = this.sql(
        "SELECT json_build_object('measurement', measurement, 'device', device, 'data', data) FROM readings ORDER BY time, data->>'seq'",
      );
      return out
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as StoredReading);
    }
    // The admin password stays inside the container (its environment), as in the health check.
    const out = this.docker(
      'exec',
      this.container('database'),
      'sh',
      '-c',
      'INFLUX_USERNAME=admin INFLUX_PASSWORD="$INFLUXDB_ADMIN_PASSWORD" influx -host 127.0.0.1 -database telemetry -format json -execute "SELECT * FROM room"',
    );
    const series = (
      JSON.parse(out) as {
        results: { series?: { columns: string[]; values: unknown[][] }[] }[];
      }
    ).results[0]?.series?.[0];
    if (!series) return [];
    return series.values.map((row) => {
      const data: Record<string, unknown> = {};
      let device = '';
      series.columns.forEach((column, index) => {
        if (column === 'device') device = String(row[index]);
        else if (column !== 'time' && row[index] !== null) data[column] = row[index];
      });
      return { device, data };
    });
  }
}

export interface StoredReading {
  measurement?: string;
  device: string;
  data: Record<string, unknown>;
}

export interface DeviceLogin {
  port: number;
  username: string;
  password: string;
}

/** One reading over MQTT (QoS 1: the broker acknowledged it). */
export async function publishMqtt(
  login: DeviceLogin,
  topic: string,
  message: unknown,
): Promise<void> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${login.port}`, {
    username: login.username,
    password: login.password,
    reconnectPeriod: 0,
  });
  try {
    await client.publishAsync(topic, JSON.stringify(message), { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

/** An AMQP publisher with confirms: `publish` resolves once the broker has the message. */
export async function amqpPublisher(login: DeviceLogin) {
  const url = `amqp://${encodeURIComponent(login.username)}:${encodeURIComponent(login.password)}@127.0.0.1:${login.port}`;
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  return {
    async publish(routingKey: string, message: unknown): Promise<void> {
      channel.publish('amq.topic', routingKey, Buffer.from(JSON.stringify(message)), {
        persistent: true,
        contentType: 'application/json',
      });
      await channel.waitForConfirms();
    },
    async close(): Promise<void> {
      await connection.close();
    },
  };
}

/** Polls `read` until `done` holds or the deadline passes; returns the last value read. */
export async function waitFor<T>(
  what: string,
  read: () => T,
  done: (value: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = read();
      if (done(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}; last value: ${JSON.stringify(last)}` +
          (lastError instanceof Error ? `; last error: ${lastError.message}` : ''),
      );
    }
    await delay(500);
  }
}
