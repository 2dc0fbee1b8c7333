import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MaxLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { MAX_CSR_PEM_LENGTH } from '@fieldstation/platform-stack';
import { IsDnsLabel } from '../../common/dns-label';
import {
  RESERVED_DEVICE_NAME_MESSAGE,
  RESERVED_DEVICE_NAMES,
} from '../../platforms/platform-devices';
import {
  DEVICE_AUTH_KINDS,
  DEVICE_STATUSES,
  type Device,
  type DeviceAuthKind,
  type DeviceStatus,
} from '../device.entity';
import type { DeviceWithStatus } from '../fleet-status';

export const MAX_LABELS = 32;
const LABEL_KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE_MAX = 255;
export const METADATA_MAX_BYTES = 8 * 1024;

export function isLabels(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length <= MAX_LABELS &&
    entries.every(
      ([key, label]) =>
        LABEL_KEY.test(key) && typeof label === 'string' && label.length <= LABEL_VALUE_MAX,
    )
  );
}

/** Key/value labels: keys like `site` or `example.com/role`, string values. */
function IsLabels(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isLabels',
      validator: {
        validate: isLabels,
        defaultMessage: () =>
          `$property must be an object of at most ${MAX_LABELS} labels: keys of letters, ` +
          `digits and "._/-" (up to 63), string values up to ${LABEL_VALUE_MAX} characters`,
      },
    },
    options,
  );
}

/** A JSON object of at most {@link METADATA_MAX_BYTES} (the body's nesting is capped already). */
function IsMetadata(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isMetadata',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Buffer.byteLength(JSON.stringify(value)) <= METADATA_MAX_BYTES,
        defaultMessage: () =>
          `$property must be a JSON object of at most ${METADATA_MAX_BYTES} bytes`,
      },
    },
    options,
  );
}

const LABELS_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string' },
  example: { site: 'greenhouse-2', model: 'pi-zero' },
} as const;
const METADATA_SCHEMA = {
  type: 'object',
  additionalProperties: true,
  example: { hardware: 'Raspberry Pi Zero 2 W', firmware: '1.4.2', location: 'row 3' },
} as const;

export class CreateDeviceInput {
  @ApiProperty({
    example: 'pi-0042',
    description: 'DNS label: the broker login and MQTT client id',
  })
  @IsDnsLabel()
  @IsNotIn(RESERVED_DEVICE_NAMES, { message: RESERVED_DEVICE_NAME_MESSAGE })
  name!: string;

  @ApiPropertyOptional({
    maxLength: MAX_CSR_PEM_LENGTH,
    description:
      'certificate / both: a PKCS #10 CSR (PEM) made on the device, key EC P-256 or RSA >= ' +
      '2048, subject CN = the name (else 400); without it Fieldstation makes the key pair and ' +
      'answers it once',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_CSR_PEM_LENGTH)
  csr?: string;

  @ApiPropertyOptional(LABELS_SCHEMA)
  @IsOptional()
  @IsLabels()
  labels?: Record<string, string>;

  @ApiPropertyOptional(METADATA_SCHEMA)
  @IsOptional()
  @IsObject()
  @IsMetadata()
  metadata?: Record<string, unknown>;

  @ApiPropertyOptional({
    enum: DEVICE_AUTH_KINDS,
    default: 'password',
    description:
      'certificate: a client certificate of the platform CA over MQTTS/AMQPS, no password; ' +
      'both: either (the platform needs TLS for a certificate, else 409 PLATFORM_WITHOUT_TLS)',
  })
  @IsOptional()
  @IsIn(DEVICE_AUTH_KINDS)
  authKind?: DeviceAuthKind;

  @ApiPropertyOptional({
    default: false,
    description: "May also publish to MyT's fanout exchange `data`, which no routing key restricts",
  })
  @IsOptional()
  @IsBoolean()
  legacyFanout?: boolean;
}

/** Labels and metadata are replaced as a whole when given. */
export class UpdateDeviceInput extends PickType(CreateDeviceInput, ['labels', 'metadata']) {}

/** A renewal: for the key of a CSR (new or the same), or without one for a new key pair. */
export class RenewCertificateInput extends PickType(CreateDeviceInput, ['csr']) {}

export class ListDevicesQuery {
  @ApiPropertyOptional({ enum: DEVICE_STATUSES })
  @IsOptional()
  @IsIn(DEVICE_STATUSES)
  status?: DeviceStatus;

  @ApiPropertyOptional({ example: 'site:greenhouse-2', description: '`key:value`' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?:.{0,255}$/, {
    message: 'label must be key:value',
  })
  label?: string;

  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'only devices connected (true) or not (false) now; none while status is unknown',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  online?: 'true' | 'false';

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 525_600,
    description:
      'only devices with no stored reading for more than this many minutes (one that never sent ' +
      'counts from its creation); none while the figures are unknown',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(525_600)
  silentForMinutes?: number;

  @ApiPropertyOptional({
    enum: ['name', 'lastSeen'],
    default: 'name',
    description: 'lastSeen: most recently seen first, never seen last',
  })
  @IsOptional()
  @IsIn(['name', 'lastSeen'])
  sort?: 'name' | 'lastSeen';

  @ApiPropertyOptional({ example: 'pi-00', description: 'names starting with this' })
  @IsOptional()
  @Matches(/^[a-z0-9-]{1,63}$/, { message: 'prefix must be lowercase letters, digits or "-"' })
  prefix?: string;
}

export class DeviceDto {
  @ApiProperty({ format: 'uuid', description: 'This record (a re-created name gets a new one)' })
  id!: string;
  @ApiProperty() name!: string;
  @ApiProperty(LABELS_SCHEMA) labels!: Record<string, string>;
  @ApiProperty(METADATA_SCHEMA) metadata!: Record<string, unknown>;
  @ApiProperty({ enum: DEVICE_AUTH_KINDS }) authKind!: DeviceAuthKind;
  @ApiProperty() legacyFanout!: boolean;
  @ApiProperty({ enum: DEVICE_STATUSES }) status!: DeviceStatus;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) rotatedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) revokedAt!: Date | null;
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'When its client certificate expires (renew before); null without certificate',
  })
  certificateExpiresAt!: Date | null;
  @ApiProperty({
    description:
      'The current password was shown once (creation, rotation or reveal); false: a launch ' +
      'device whose password POST …/reveal-password shows once',
  })
  passwordRevealed!: boolean;
}

/** A device with its live state on the running broker. */
export class DeviceStatusDto extends DeviceDto {
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      'Connected to the broker now (AMQP or MQTT); null when the platform is not running or ' +
      'its broker did not answer within 3 s',
  })
  online!: boolean | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Its open broker connections now' })
  connections!: number | null;
  @ApiProperty({
    type: Date,
    nullable: true,
    description:
      'When the processor last stored a reading of it (since the processor started); null: none, ' +
      'or unknown when readingsLastHour is null too',
  })
  lastReadingAt!: Date | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Readings stored in the last hour; null when the processor could not be asked',
  })
  readingsLastHour!: number | null;
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'Now while connected, else its last stored reading',
  })
  lastSeenAt!: Date | null;
}

export class CopiedDevicesDto {
  @ApiProperty({ type: [DeviceDto], description: 'Now on this platform, same credentials' })
  copied!: DeviceDto[];
  @ApiProperty({ type: [String], description: 'Names this platform already had' })
  skipped!: string[];
}

/** A name the processor stored readings of that is not an active device of the registry. */
export class UnknownPublisherDto {
  @ApiProperty() name!: string;
  @ApiProperty() lastReadingAt!: Date;
  @ApiProperty() readingsLastHour!: number;
}

export class SendCommandInput {
  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'object', additionalProperties: true }],
    example: { action: 'reboot', delaySeconds: 5 },
    description:
      'A string is sent as its text, any other JSON value as its JSON text; at most 64 KB (413)',
  })
  @IsDefined()
  payload!: unknown;

  @ApiPropertyOptional({
    default: false,
    description:
      'Retained: the broker keeps it as the last command of commands/<name> (replacing the ' +
      'previous one) and hands it to the device whenever it subscribes to commands/<name> (exact ' +
      'topic: RabbitMQ sends no retained message to a wildcard subscription such as ' +
      'commands/<name>/#), also after a restart of the broker. Published over MQTT (QoS 1, retain ' +
      'flag); an empty payload is 400. DELETE …/commands/retained clears it; revoking the device ' +
      'clears it too. 409 MQTT_LISTENER_UNAVAILABLE when the platform publishes no MQTT listener',
  })
  @IsOptional()
  @IsBoolean()
  retain?: boolean;
}

export class CommandSentDto {
  @ApiProperty() device!: string;
  @ApiProperty({ example: 'commands/pi-0042', description: 'The MQTT topic it went to' })
  topic!: string;
  @ApiProperty({ example: 'commands.pi-0042', description: 'The same on amq.topic (AMQP)' })
  routingKey!: string;
  @ApiProperty({ description: 'Payload size in bytes' }) bytes!: number;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description:
      'A queue took it: the device is subscribed now, or has a persistent session (QoS 1, clean ' +
      'session off) and gets it when it reconnects. False: nobody will receive it. Null for a ' +
      "retained command (an MQTT publish's acknowledgement does not say; the broker keeps it for " +
      'the next subscription anyway)',
  })
  routed!: boolean | null;
  @ApiProperty({ description: "Kept as the topic's retained command" }) retained!: boolean;
  @ApiProperty() sentAt!: Date;
}

export class RetainedCommandClearedDto {
  @ApiProperty() device!: string;
  @ApiProperty({
    example: 'commands/pi-0042',
    description: 'The topic whose retained command went',
  })
  topic!: string;
  @ApiProperty() clearedAt!: Date;
}

/** A device certificate, answered once (at creation or renewal). */
export class CertificateBundleDto {
  @ApiProperty({ description: 'PEM; CN = the device name' }) certificatePem!: string;
  @ApiProperty({ description: "The platform CA (PEM): verifies the broker's certificate" })
  caCertificatePem!: string;
  @ApiPropertyOptional({
    description: 'PEM (PKCS #8): only when Fieldstation made the key pair (no CSR); shown once',
  })
  privateKeyPem?: string;
  @ApiProperty() expiresAt!: Date;
}

/** A created device: its password (password, both) and certificate (certificate, both), once. */
export class CreatedDeviceDto {
  @ApiProperty({ type: DeviceDto }) device!: DeviceDto;
  @ApiPropertyOptional({ description: 'Shown once: store it on the device now' })
  password?: string;
  @ApiPropertyOptional({ type: CertificateBundleDto }) certificate?: CertificateBundleDto;
}

export class DeviceWithCertificateDto {
  @ApiProperty({ type: DeviceDto }) device!: DeviceDto;
  @ApiProperty({ type: CertificateBundleDto }) certificate!: CertificateBundleDto;
}

/** The answer that carries a device's password: the only time it is shown. */
export class DeviceWithPasswordDto {
  @ApiProperty({ type: DeviceDto }) device!: DeviceDto;
  @ApiProperty({ description: 'Shown once: store it on the device now' }) password!: string;
}

export function toDeviceStatusDto(device: DeviceWithStatus): DeviceStatusDto {
  return {
    ...toDeviceDto(device),
    online: device.connections === null ? null : device.connections > 0,
    connections: device.connections,
    lastReadingAt: device.lastReadingAt,
    readingsLastHour: device.readingsLastHour,
    lastSeenAt: device.lastSeenAt,
  };
}

export function toDeviceDto(device: Device): DeviceDto {
  return {
    id: device.id,
    name: device.name,
    labels: device.labels,
    metadata: device.metadata,
    authKind: device.authKind,
    legacyFanout: device.legacyFanout,
    status: device.revokedAt ? 'revoked' : 'active',
    createdAt: device.createdAt,
    rotatedAt: device.rotatedAt,
    revokedAt: device.revokedAt,
    certificateExpiresAt: device.certificateExpiresAt ?? null,
    passwordRevealed: device.passwordRevealedAt !== null,
  };
}
