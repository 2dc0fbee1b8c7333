import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { READINGS_RETENTION_DAYS } from '@fieldstation/platform-stack';
import { IsDnsLabel, TARGET_NAME_MAX } from '../../common/dns-label';
import { RESERVED_DEVICE_NAME_MESSAGE, RESERVED_DEVICE_NAMES } from '../platform-devices';
import { DATABASE_CHOICES, type DatabaseChoice } from '@fieldstation/platform-stack';
import { PLATFORM_TARGETS } from '../platform.entity';

const CLOUD_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

const optionalPort = () => [IsOptional(), IsInt(), Min(1), Max(65535)];
function PortField(): PropertyDecorator {
  return (target, key) => {
    for (const decorate of optionalPort()) decorate(target, key);
    ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 65535 })(target, key);
  };
}

/** Host ports for ssh-host targets that already run something on the standard ports. */
export class PlatformPortsInput {
  @PortField() amqp?: number | null;
  @PortField() amqps?: number | null;
  @PortField() mqtt?: number | null;
  @PortField() mqtts?: number | null;
  @PortField() rabbitmqManagement?: number | null;
  @PortField() grafana?: number | null;
}

/** Options that matter only for some targets; the others are rejected by the launch. */
export class PlatformOptionsInput {
  @ApiPropertyOptional({ description: 'aws, gcp: region', example: 'eu-west-1' })
  @IsOptional()
  @Matches(CLOUD_ID)
  region?: string;

  @ApiPropertyOptional({ description: 'aws', example: 't3.small' })
  @IsOptional()
  @Matches(CLOUD_ID)
  instanceType?: string;

  @ApiPropertyOptional({ description: 'gcp', example: 'europe-west1-b' })
  @IsOptional()
  @Matches(CLOUD_ID)
  zone?: string;

  @ApiPropertyOptional({ description: 'gcp', example: 'e2-small' })
  @IsOptional()
  @Matches(CLOUD_ID)
  machineType?: string;

  @ApiPropertyOptional({ description: 'openstack', example: 'm1.small' })
  @IsOptional()
  @Matches(CLOUD_ID)
  flavorName?: string;

  @ApiPropertyOptional({ description: 'openstack', example: 'Ubuntu 24.04' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  imageName?: string;

  @ApiPropertyOptional({
    description: 'ssh-host: block device of a data volume to format (if blank) and mount',
    example: '/dev/sdb',
  })
  @IsOptional()
  @Matches(/^\/dev\/[A-Za-z0-9/_-]{1,64}$/, { message: 'dataDevice must be a /dev path' })
  dataDevice?: string;
}

export class ProcessorInput {
  @ApiPropertyOptional({
    description: 'ES module exporting process(reading, ctx); template if absent',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256 * 1024)
  script?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'npm packages the script imports: name → exact version',
    example: { ms: '2.1.3' },
  })
  @IsOptional()
  @IsObject()
  packages?: Record<string, string>;
}

export class LaunchPlatformInput {
  @ApiProperty({ example: 'greenhouse', description: 'DNS label' })
  @IsDnsLabel({ maxLength: TARGET_NAME_MAX })
  name!: string;

  @ApiProperty({ enum: PLATFORM_TARGETS })
  @IsIn(PLATFORM_TARGETS)
  target!: (typeof PLATFORM_TARGETS)[number];

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  credentialId!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'aws and openstack' })
  @IsOptional()
  @IsUUID()
  spaceId?: string;

  @ApiPropertyOptional({ enum: DATABASE_CHOICES, default: 'postgres' })
  @IsOptional()
  @IsIn(DATABASE_CHOICES)
  database?: DatabaseChoice;

  @ApiPropertyOptional({ default: 20, minimum: 10, maximum: 2000 })
  @IsOptional()
  @IsInt()
  @Min(10)
  @Max(2000)
  dataVolumeGb?: number;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: READINGS_RETENTION_DAYS.min,
    maximum: READINGS_RETENTION_DAYS.max,
    description: 'Keep readings this many days; null or absent keeps them all',
  })
  @IsOptional()
  @IsInt()
  @Min(READINGS_RETENTION_DAYS.min)
  @Max(READINGS_RETENTION_DAYS.max)
  readingsRetentionDays?: number | null;

  @ApiPropertyOptional({
    default: true,
    description: 'TLS listeners (AMQPS 5671, MQTTS 8883) and HTTPS Grafana; false for plain ports',
  })
  @IsOptional()
  @IsBoolean()
  tls?: boolean;

  @ApiPropertyOptional({ type: [String], default: ['device-1'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsDnsLabel({ each: true })
  @IsNotIn(RESERVED_DEVICE_NAMES, { each: true, message: RESERVED_DEVICE_NAME_MESSAGE })
  deviceUsers?: string[];

  @ApiPropertyOptional({ type: PlatformPortsInput })
  @IsOptional()
  @ValidateNested()
  @Type(() => PlatformPortsInput)
  ports?: PlatformPortsInput;

  @ApiPropertyOptional({ type: PlatformOptionsInput })
  @IsOptional()
  @ValidateNested()
  @Type(() => PlatformOptionsInput)
  options?: PlatformOptionsInput;

  @ApiPropertyOptional({ type: ProcessorInput })
  @IsOptional()
  @ValidateNested()
  @Type(() => ProcessorInput)
  processor?: ProcessorInput;
}

export class UpdateProcessorInput {
  @ApiProperty()
  @IsString()
  @MaxLength(256 * 1024)
  script!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { ms: '2.1.3' },
  })
  @IsOptional()
  @IsObject()
  packages?: Record<string, string>;
}

export class ReadingsRetentionInput {
  @ApiProperty({
    type: Number,
    nullable: true,
    minimum: READINGS_RETENTION_DAYS.min,
    maximum: READINGS_RETENTION_DAYS.max,
    description: 'Keep readings this many days; null keeps them all',
  })
  @ValidateIf((input: ReadingsRetentionInput) => input.days !== null)
  @IsInt()
  @Min(READINGS_RETENTION_DAYS.min)
  @Max(READINGS_RETENTION_DAYS.max)
  days!: number | null;
}

export class DestroyPlatformInput {
  @ApiPropertyOptional({
    default: false,
    description: 'ssh-host: also delete the data directory (cloud targets always lose the VM)',
  })
  @IsOptional()
  @IsBoolean()
  removeData?: boolean;
}
