import { Socket } from 'node:net';

/** Resolves true once a TCP connection to host:port succeeds within the time limit. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (reachable: boolean) => {
      socket.destroy();
      resolve(reachable);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** The broker's published device ports: MQTT and AMQP, TLS or not. */
export function brokerPorts(ports: {
  amqp: number | null;
  amqps: number | null;
  mqtt: number | null;
  mqtts: number | null;
}): { name: string; port: number }[] {
  return (['mqtt', 'mqtts', 'amqp', 'amqps'] as const)
    .filter((name) => ports[name] !== null)
    .map((name) => ({ name: name.toUpperCase(), port: ports[name]! }));
}
