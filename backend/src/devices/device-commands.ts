import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import type { RequestOrigin } from '../common/request-origin';
import {
  type BrokerApi,
  BrokerManagement,
  type BrokerManagementTarget,
} from '../provision/broker-management';
import { commandRoutingKey, commandTopic } from './command-topic';
import { DeviceRegistry } from './device-registry';
import type { SendCommandInput } from './dto/device.dto';

/** A command's payload on the wire at most (issue 14 item 10: larger is 413). */
export const COMMAND_PAYLOAD_MAX_BYTES = 64 * 1024;

/** Commands go to `amq.topic`, where MQTT topics live (`/` in a topic is `.` in a routing key). */
const COMMANDS_EXCHANGE = 'amq.topic';

export interface CommandSent {
  device: string;
  /** The MQTT topic the device subscribes to (`commands/<name>` or `commands/<name>/#`). */
  topic: string;
  routingKey: string;
  bytes: number;
  /**
   * A queue took it: the device is subscribed now or has a persistent session. Null for a
   * retained command: an MQTT PUBACK does not say, and the broker keeps it for the next subscriber.
   */
  routed: boolean | null;
  /** Kept by the broker as the topic's retained message (replacing the previous one). */
  retained: boolean;
  sentAt: Date;
}

export interface RetainedCommandCleared {
  device: string;
  topic: string;
  clearedAt: Date;
}

/**
 * Cloud-to-device commands to `commands/<name>` (`commands.<name>` on the platform's
 * `amq.topic`), over the platform's SSH connection as the broker's administrator. Only that
 * device can receive it: its topic permission lets it bind `commands.<its name>` and below.
 *
 * A plain command is one persistent message through the management API's publish (which says
 * whether a queue took it). A retained one is published as an MQTT client (QoS 1, retain flag)
 * to the broker's MQTT listener, since RabbitMQ's MQTT plugin keeps only what an MQTT client
 * publishes with that flag: the broker keeps the last one per topic and hands it to the device
 * when it subscribes to `commands/<name>`.
 */
@Injectable()
export class DeviceCommands {
  constructor(
    private readonly registry: DeviceRegistry,
    private readonly broker: BrokerManagement,
    private readonly audit: AuditLog,
  ) {}

  async send(
    auth: AuthContext,
    platformId: string,
    name: string,
    input: SendCommandInput,
    origin: RequestOrigin,
  ): Promise<CommandSent> {
    const payload = commandBytes(input.payload);
    if (payload.length > COMMAND_PAYLOAD_MAX_BYTES) {
      throw new ApiError(
        HttpStatus.PAYLOAD_TOO_LARGE,
        'COMMAND_TOO_LARGE',
        `A command's payload is at most ${COMMAND_PAYLOAD_MAX_BYTES} bytes; this one is ${payload.length}`,
        [{ field: 'payload', problems: [`at most ${COMMAND_PAYLOAD_MAX_BYTES} bytes`] }],
      );
    }
    const retained = input.retain === true;
    // An empty retained message is MQTT's way to clear one: it would be stored as nothing.
    if (retained && payload.length === 0) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'VALIDATION_FAILED',
        'A retained command needs a payload; to clear the retained one, use "Clear retained command" (DELETE …/commands/retained)',
        [{ field: 'payload', problems: ['must not be empty when retained'] }],
      );
    }
    const { platform, device, target } = await this.registry.brokerOfActive(auth, platformId, name);
    const topic = commandTopic(device.name);
    if (retained) requireMqttListener(target);
    const routed = await this.onBroker(target, device.name, 'did not take the command', (api) =>
      retained
        ? api.publishRetained([{ topic, payload }]).then(() => null)
        : api.publish(COMMANDS_EXCHANGE, commandRoutingKey(device.name), payload),
    );
    const sentAt = new Date();
    // The payload stays out of the audit log: a command may carry something the user keeps private.
    await this.audit.record(auth.userId, AuditEventType.DeviceCommandSent, origin, {
      platformId: platform.id,
      platformName: platform.name,
      device: device.name,
      bytes: String(payload.length),
      routed: String(routed),
      retained: String(retained),
    });
    return {
      device: device.name,
      topic,
      routingKey: commandRoutingKey(device.name),
      bytes: payload.length,
      routed,
      retained,
      sentAt,
    };
  }

  /**
   * Clears the device's retained command (an empty retained message to its topic, which a device
   * subscribed at that moment also receives, as MQTT has it); clearing none is fine. Audited.
   */
  async clearRetained(
    auth: AuthContext,
    platformId: string,
    name: string,
    origin: RequestOrigin,
  ): Promise<RetainedCommandCleared> {
    const { platform, device, target } = await this.registry.brokerOfActive(auth, platformId, name);
    const topic = commandTopic(device.name);
    requireMqttListener(target);
    await this.onBroker(target, device.name, 'did not clear the retained command', (api) =>
      api.clearRetained([topic]),
    );
    const clearedAt = new Date();
    await this.audit.record(auth.userId, AuditEventType.DeviceRetainedCommandCleared, origin, {
      platformId: platform.id,
      platformName: platform.name,
      device: device.name,
    });
    return { device: device.name, topic, clearedAt };
  }

  private async onBroker<T>(
    target: BrokerManagementTarget,
    name: string,
    failure: string,
    work: (api: BrokerApi) => Promise<T>,
  ): Promise<T> {
    try {
      return await this.broker.use(target, work);
    } catch (error) {
      throw new ApiError(
        HttpStatus.BAD_GATEWAY,
        'BROKER_CHANGE_FAILED',
        `The platform's broker ${failure} for "${name}": ${(error as Error).message}`,
      );
    }
  }
}

/** Retained commands need the broker's MQTT listener published on the host (409 otherwise). */
function requireMqttListener(target: BrokerManagementTarget): void {
  if (target.mqtt === null) {
    throw new ApiError(
      HttpStatus.CONFLICT,
      'MQTT_LISTENER_UNAVAILABLE',
      "The platform's broker has no MQTT listener published on its host, so nothing can be retained: send the command without retain (a device with a persistent session still gets it)",
    );
  }
}

/** A string is sent as its UTF-8 text; any other JSON value as its JSON text. */
export function commandBytes(payload: unknown): Buffer {
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
}
