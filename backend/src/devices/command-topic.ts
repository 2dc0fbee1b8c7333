/** The MQTT topic of a device's commands; only that device may subscribe to it. */
export const commandTopic = (name: string): string => `commands/${name}`;

/** The same topic as a routing key on amq.topic (MQTT's `/` is AMQP's `.`). */
export const commandRoutingKey = (name: string): string => `commands.${name}`;
