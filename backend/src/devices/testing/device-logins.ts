import mqtt from 'mqtt';
import type { DeviceLogin } from '../../provision/testing/platform-probes';

/** The API's answer to adding a device or rotating its password. */
export type DeviceWithPassword = { device: { name: string; status: string }; password: string };

/** Within this long a change must hold on the running broker (issue 14: 5 s). */
export const TAKES_EFFECT_MS = 5_000;

/** Connects over MQTT with the device's name as client id; rejects when the broker refuses. */
export function connectMqtt(login: DeviceLogin) {
  return mqtt.connectAsync(`mqtt://127.0.0.1:${login.port}`, {
    username: login.username,
    password: login.password,
    clientId: login.username,
    reconnectPeriod: 0,
    connectTimeout: 3_000,
  });
}

/** Retries an MQTT login until it succeeds; returns the connected client and when it did. */
export async function firstMqttLogin(login: DeviceLogin, deadline: number) {
  for (;;) {
    try {
      return { client: await connectMqtt(login), at: Date.now() };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A reading of measurement `room` from `device`, numbered `seq` and tagged with how it came. */
export const reading = (device: string, seq: number, via: string) => ({
  measurement: 'room',
  device,
  data: { raw: 2000 + seq, seq, via },
});
