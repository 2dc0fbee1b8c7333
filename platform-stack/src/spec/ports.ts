/** Host ports; `null` leaves a service unpublished (reachable only inside the stack's network). */
export interface StackPorts {
  amqp: number | null;
  amqps: number | null;
  mqtt: number | null;
  mqtts: number | null;
  rabbitmqManagement: number | null;
  grafana: number | null;
}

export type StackPortName = keyof StackPorts;

/** The port each published service listens on unless the launch gives another. */
export const STANDARD_PORTS: Readonly<Record<StackPortName, number>> = {
  amqp: 5672,
  amqps: 5671,
  mqtt: 1883,
  mqtts: 8883,
  rabbitmqManagement: 15672,
  grafana: 3000,
};

/**
 * The host ports of a new platform: the web UIs on their standard ports, and either the TLS
 * broker listeners (TLS on; plaintext ones unpublished) or the plaintext ones (TLS off).
 */
export function defaultStackPorts(tls: boolean): StackPorts {
  return {
    ...STANDARD_PORTS,
    ...(tls ? { amqp: null, mqtt: null } : { amqps: null, mqtts: null }),
  };
}
