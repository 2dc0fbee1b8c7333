import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, IsUrl, Length } from 'class-validator';
import {
  CHANNEL_KINDS,
  type ChannelKind,
  type NotificationChannel,
} from '../notification-channel.entity';
import type {
  DeliveryAttempt,
  DeliveryStatus,
  NotificationDelivery,
} from '../notification-delivery.entity';

export class CreateChannelInput {
  @ApiProperty({ example: 'ops webhook' })
  @IsString()
  @Length(1, 64)
  name!: string;

  @ApiProperty({ enum: CHANNEL_KINDS })
  @IsIn(CHANNEL_KINDS)
  kind!: ChannelKind;

  @ApiProperty({ example: 'https://ntfy.sh/my-greenhouse', description: 'http(s) only' })
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  url!: string;
}

export class NotificationChannelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: CHANNEL_KINDS }) kind!: ChannelKind;
  @ApiProperty() url!: string;
  @ApiProperty({ description: 'A standing grant lets the worker sign without a session' })
  standingGrant!: boolean;
  @ApiProperty() createdAt!: Date;
}

export class CreatedChannelDto {
  @ApiProperty({ type: NotificationChannelDto }) channel!: NotificationChannelDto;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'webhook: the Standard Webhooks signing secret (whsec_…), shown only here',
  })
  signingSecret!: string | null;
}

export class DeliveryAttemptDto {
  @ApiProperty() at!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: "The receiver's answer (HTTP status and the start of its body)" })
  answer!: string;
}

export class NotificationDeliveryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status!: DeliveryStatus;
  @ApiProperty() title!: string;
  @ApiProperty() type!: string;
  @ApiProperty({ type: [DeliveryAttemptDto] }) attempts!: DeliveryAttempt[];
  @ApiProperty() createdAt!: Date;
}

export class QueuedDeliveryDto {
  @ApiProperty({ format: 'uuid' }) deliveryId!: string;
}

export function toChannelDto(channel: NotificationChannel): NotificationChannelDto {
  const { id, name, kind, url, grantId, createdAt } = channel;
  return { id, name, kind, url, standingGrant: grantId !== null, createdAt };
}

export function toDeliveryDto(delivery: NotificationDelivery): NotificationDeliveryDto {
  const { id, status, message, attempts, createdAt } = delivery;
  return { id, status, title: message.title, type: message.type, attempts, createdAt };
}
