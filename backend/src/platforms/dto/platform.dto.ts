import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PLATFORM_STATUSES } from '../platform-lifecycle';
import { DATABASE_CHOICES } from '@fieldstation/platform-stack';
import { PLATFORM_TARGETS, type Platform } from '../platform.entity';

export class DataVolumeUseDto {
  @ApiProperty({ description: 'percent used' }) usedPercent!: number;
  @ApiProperty() bytesFree!: number;
  @ApiProperty() bytesTotal!: number;
}

export class PlatformHealthDto {
  @ApiProperty({ enum: ['healthy', 'degraded', 'unreachable'] }) status!: string;
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty() checkedAt!: string;
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'readings waiting' })
  queueDepth?: number | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'last stored reading' })
  lastReadingAt?: string | null;
  @ApiPropertyOptional({
    type: DataVolumeUseDto,
    nullable: true,
    description: "the data volume's use on the host (df)",
  })
  disk?: DataVolumeUseDto | null;
}

export class PlatformPortsDto {
  @ApiProperty({ type: Number, nullable: true }) amqp!: number | null;
  @ApiProperty({ type: Number, nullable: true }) amqps!: number | null;
  @ApiProperty({ type: Number, nullable: true }) mqtt!: number | null;
  @ApiProperty({ type: Number, nullable: true }) mqtts!: number | null;
  @ApiProperty({ type: Number, nullable: true }) rabbitmqManagement!: number | null;
  @ApiProperty({ type: Number, nullable: true }) grafana!: number | null;
}

/** What a launch fills in where its request leaves a field out. */
export class LaunchDefaultsDto {
  @ApiProperty({
    type: PlatformPortsDto,
    description: 'Host ports with TLS on: the plaintext broker listeners are unpublished',
  })
  portsWithTls!: PlatformPortsDto;
  @ApiProperty({
    type: PlatformPortsDto,
    description: 'Host ports with TLS off: the TLS broker listeners are unpublished',
  })
  portsWithoutTls!: PlatformPortsDto;
}

/** A platform as the API shows it: no secret, no script body (see /processor). */
export class PlatformDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: PLATFORM_TARGETS }) target!: string;
  @ApiProperty() credentialId!: string;
  @ApiProperty({ type: String, nullable: true }) spaceId!: string | null;
  @ApiProperty({ enum: DATABASE_CHOICES }) database!: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Size of the cloud data volume; null for ssh-host platforms, which have none',
  })
  dataVolumeGb!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Readings older than this many days are deleted; null keeps them all',
  })
  readingsRetentionDays!: number | null;
  @ApiProperty() tls!: boolean;
  @ApiProperty({ type: PlatformPortsDto }) ports!: PlatformPortsDto;
  @ApiProperty({ type: 'object', additionalProperties: true }) options!: Record<string, unknown>;
  @ApiProperty({ enum: PLATFORM_STATUSES }) status!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'set while failed: where retry resumes',
  })
  failedStep!: string | null;
  @ApiProperty({ type: String, nullable: true }) address!: string | null;
  @ApiProperty({ type: String, nullable: true }) hostKeyFingerprint!: string | null;
  @ApiProperty({ type: PlatformHealthDto, nullable: true }) health!: PlatformHealthDto | null;
  @ApiProperty({ type: [String] }) deviceUsers!: string[];
  @ApiProperty({ type: Date, nullable: true }) dumpCreatedAt!: Date | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export function toPlatformDto(platform: Platform): PlatformDto {
  return {
    id: platform.id,
    name: platform.name,
    target: platform.target,
    credentialId: platform.credentialId,
    spaceId: platform.spaceId,
    database: platform.database,
    dataVolumeGb: platform.target === 'ssh-host' ? null : platform.dataVolumeGb,
    readingsRetentionDays: platform.readingsRetentionDays,
    tls: platform.tls,
    ports: platform.ports,
    options: platform.options,
    status: platform.status,
    failedStep: platform.failedStep,
    address: platform.address,
    hostKeyFingerprint: platform.hostKeyFingerprint,
    health: platform.health,
    deviceUsers: platform.deviceUsers,
    dumpCreatedAt: platform.dumpCreatedAt,
    createdAt: platform.createdAt,
    updatedAt: platform.updatedAt,
  };
}

export class DeploymentAcceptedDto {
  @ApiProperty() deploymentId!: string;
  @ApiProperty({ type: [String], description: 'e.g. the npm registry could not be reached' })
  warnings!: string[];
}

export class PlatformAcceptedDto extends DeploymentAcceptedDto {
  @ApiProperty({ type: PlatformDto }) platform!: PlatformDto;
}

export class ProcessorDto {
  @ApiProperty() script!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  packages!: Record<string, string>;
}

/** A device's login without its password (POST …/devices/:name/reveal-password shows it once). */
export class DeviceLoginDto {
  @ApiProperty() username!: string;
  @ApiProperty({
    description:
      'The current password was shown once already (at creation, rotation or reveal); ' +
      'false: a launch device whose password can be revealed once',
  })
  passwordRevealed!: boolean;
}

/** Everything a device or a person needs to reach the platform. */
export class ConnectionDto {
  @ApiProperty() host!: string;
  @ApiProperty({ type: String, nullable: true, example: 'mqtt://203.0.113.10:1883' })
  mqttUrl!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'amqp://203.0.113.10:5672' })
  amqpUrl!: string | null;
  @ApiProperty({ type: PlatformPortsDto }) ports!: PlatformPortsDto;
  @ApiProperty() tls!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'PEM, when TLS is on' })
  caCertificatePem!: string | null;
  @ApiProperty({ type: [DeviceLoginDto], description: 'Active devices; never a password' })
  devices!: DeviceLoginDto[];
  @ApiProperty({ example: 'telemetry/<measurement>/<device>' }) mqttTopic!: string;
  @ApiProperty({ example: 'amq.topic' }) amqpExchange!: string;
  @ApiProperty({ example: 'telemetry.<measurement>.<device>' }) amqpRoutingKey!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Without TLS, Grafana listens on the host loopback: open grafanaTunnel first',
  })
  grafanaUrl!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'ssh -N -L 3000:127.0.0.1:3000 -p 22 fieldstation@203.0.113.10',
    description: 'The SSH port forward that reaches a plain-HTTP Grafana; null with TLS',
  })
  grafanaTunnel!: string | null;
  @ApiProperty({ example: 'admin' }) grafanaUsername!: string;
  @ApiProperty({ description: 'false until the one-time password was revealed' })
  grafanaPasswordRevealed!: boolean;
}

export class GrafanaPasswordDto {
  @ApiProperty() password!: string;
}
