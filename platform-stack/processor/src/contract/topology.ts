import type { Channel } from 'amqplib';

/** Broker objects of DESIGN §8; declared by the processor so a fresh broker works without setup. */
export interface Topology {
  queue: string;
  deadLetterQueue: string;
}

export const TELEMETRY_EXCHANGE = 'amq.topic';
export const TELEMETRY_BINDING = 'telemetry.#';
/** MyT devices publish to this fanout exchange; binding it keeps their code working. */
export const MYT_FANOUT_EXCHANGE = 'data';

export async function assertTopology(channel: Channel, topology: Topology): Promise<void> {
  await channel.assertQueue(topology.deadLetterQueue, { durable: true });
  await channel.assertQueue(topology.queue, { durable: true });
  await channel.bindQueue(topology.queue, TELEMETRY_EXCHANGE, TELEMETRY_BINDING);
  await channel.assertExchange(MYT_FANOUT_EXCHANGE, 'fanout', { durable: true });
  await channel.bindQueue(topology.queue, MYT_FANOUT_EXCHANGE, '');
}
