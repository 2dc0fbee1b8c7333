import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
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

const MAX_CA_PEM_LENGTH = 16_384;

export class SmtpInput {
  @ApiProperty({ example: 'smtp.example.org' })
  @IsString()
  @Length(1, 253)
  host!: string;

  @ApiProperty({ example: 587 })
  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;

  @ApiProperty({
    description:
      'TLS from the first byte (465); false: STARTTLS, required (a server without it is refused)',
  })
  @IsBoolean()
  tls!: boolean;

  @ApiPropertyOptional({
    description:
      "PEM of the CA that signed the server's certificate, for a private CA; the system's CAs when left out",
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_CA_PEM_LENGTH)
  caCertificatePem?: string;

  @ApiPropertyOptional({ description: 'Login; leave out for a server without authentication' })
  @IsOptional()
  @IsString()
  @Length(1, 254)
  username?: string;

  @ApiPropertyOptional({ description: 'Sealed; never shown again' })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  password?: string;

  @ApiProperty({ example: 'fieldstation@example.org' })
  @IsEmail()
  from!: string;

  @ApiProperty({ example: 'me@example.org' })
  @IsEmail()
  to!: string;
}

export class CreateChannelInput {
  @ApiProperty({ example: 'ops webhook' })
  @IsString()
  @Length(1, 64)
  name!: string;

  @ApiProperty({ enum: CHANNEL_KINDS })
  @IsIn(CHANNEL_KINDS)
  kind!: ChannelKind;

  @ApiPropertyOptional({
    example: 'https://ntfy.sh/my-greenhouse',
    description: 'webhook, ntfy: http(s) only',
  })
  @ValidateIf((input: CreateChannelInput) => input.kind !== 'email')
  @IsUrl({ protocols: ['http', 'https'], require_protocol: true, require_tld: false })
  url?: string;

  @ApiPropertyOptional({ type: SmtpInput, description: 'email only' })
  @ValidateIf((input: CreateChannelInput) => input.kind === 'email')
  @ValidateNested()
  @Type(() => SmtpInput)
  smtp?: SmtpInput;
}

export class DeliveryAttemptDto {
  @ApiProperty() at!: string;
  @ApiProperty() ok!: boolean;
  @ApiProperty({ description: "The receiver's answer (HTTP status and the start of its body)" })
  answer!: string;
}

export class NotificationChannelDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: CHANNEL_KINDS }) kind!: ChannelKind;
  @ApiProperty() url!: string;
  @ApiProperty({ description: 'A standing grant lets the worker sign without a session' })
  standingGrant!: boolean;
  @ApiProperty({
    type: DeliveryAttemptDto,
    nullable: true,
    description:
      'The latest attempt of its latest delivery tried (what the Notifications page warns about)',
  })
  lastAttempt!: DeliveryAttemptDto | null;
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

export function toChannelDto(
  channel: NotificationChannel,
  lastAttempt: DeliveryAttempt | null,
): NotificationChannelDto {
  const { id, name, kind, url, grantId, createdAt } = channel;
  return { id, name, kind, url, standingGrant: grantId !== null, lastAttempt, createdAt };
}

export function toDeliveryDto(delivery: NotificationDelivery): NotificationDeliveryDto {
  const { id, status, message, attempts, createdAt } = delivery;
  return { id, status, title: message.title, type: message.type, attempts, createdAt };
}
