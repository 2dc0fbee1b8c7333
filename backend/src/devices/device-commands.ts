import { HttpStatus, Injectable } from '@nestjs/common';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import type { RequestOrigin } from '../common/request-origin';
import { BrokerManagement } from '../provision/broker-management';
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
  /** A queue took it: the device is subscribed now or has a persistent session. */
  routed: boolean;
  sentAt: Date;
}

/**
 * Cloud-to-device commands: one persistent message to `commands.<name>` on the platform's
 * `amq.topic`, published by the broker's administrator through the management API over the
 * platform's SSH connection (the same path as device changes). Only that device can receive it:
 * its topic permission lets it bind `commands.<its name>` and below, no other device's.
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
    if (input.retain === true) {
      // RabbitMQ's MQTT plugin retains only what an MQTT client publishes with the retain flag;
      // a message published on amq.topic (AMQP, the management API) is never kept for later
      // subscribers, so a retain flag here would be silently ignored.
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'RETAIN_NOT_SUPPORTED',
        'Retained commands are not supported: the broker keeps only MQTT-published messages. ' +
          'A device that must get commands sent while it is offline keeps a persistent session ' +
          '(QoS 1, clean session off)',
        [{ field: 'retain', problems: ['is not supported'] }],
      );
    }
    const payload = commandBytes(input.payload);
    if (payload.length > COMMAND_PAYLOAD_MAX_BYTES) {
      throw new ApiError(
        HttpStatus.PAYLOAD_TOO_LARGE,
        'COMMAND_TOO_LARGE',
        `A command's payload is at most ${COMMAND_PAYLOAD_MAX_BYTES} bytes; this one is ${payload.length}`,
        [{ field: 'payload', problems: [`at most ${COMMAND_PAYLOAD_MAX_BYTES} bytes`] }],
      );
    }
    const { platform, device, target } = await this.registry.brokerOfActive(auth, platformId, name);
    const routingKey = `commands.${device.name}`;
    let routed: boolean;
    try {
      routed = await this.broker.use(target, (api) =>
        api.publish(COMMANDS_EXCHANGE, routingKey, payload),
      );
    } catch (error) {
      throw new ApiError(
        HttpStatus.BAD_GATEWAY,
        'BROKER_CHANGE_FAILED',
        `The platform's broker did not take the command for "${device.name}": ${(error as Error).message}`,
      );
    }
    const sentAt = new Date();
    // The payload stays out of the audit log: a command may carry something the user keeps private.
    await this.audit.record(auth.userId, AuditEventType.DeviceCommandSent, origin, {
      platformId: platform.id,
      platformName: platform.name,
      device: device.name,
      bytes: String(payload.length),
      routed: String(routed),
    });
    return {
      device: device.name,
      topic: `commands/${device.name}`,
      routingKey,
      bytes: payload.length,
      routed,
      sentAt,
    };
  }
}

/** A string is sent as its UTF-8 text; any other JSON value as its JSON text. */
export function commandBytes(payload: unknown): Buffer {
  return Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload), 'utf8');
}
