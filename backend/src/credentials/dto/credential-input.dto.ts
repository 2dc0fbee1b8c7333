import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  Equals,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { IsDnsLabel } from '../../common/dns-label';

abstract class CredentialInput {
  /** Credential names may become parts of resource names. */
  @ApiProperty({ example: 'my-cloud' })
  @IsDnsLabel()
  name!: string;
}

export class AwsCredentialInput extends CredentialInput {
  @ApiProperty({ enum: ['aws'] })
  @Equals('aws')
  type!: 'aws';

  @ApiProperty({ example: 'eu-central-1' })
  @Matches(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$/, {
    message: 'region must be an AWS region such as eu-central-1',
  })
  region!: string;

  @ApiProperty({ writeOnly: true, example: 'AKIA…' })
  @Matches(/^[A-Z0-9]{16,128}$/, { message: 'accessKeyId must be an AWS access key id' })
  accessKeyId!: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @MinLength(16)
  @MaxLength(128)
  secretAccessKey!: string;
}

export class GcpCredentialInput extends CredentialInput {
  @ApiProperty({ enum: ['gcp'] })
  @Equals('gcp')
  type!: 'gcp';

  @ApiPropertyOptional({ description: 'Defaults to the project_id of the service account' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { message: 'project must be a GCP project id' })
  project?: string;

  @ApiProperty({ writeOnly: true, description: 'The service-account key file (JSON text)' })
  @IsString()
  @MaxLength(16384)
  serviceAccountJson!: string;
}

export class OpenstackCredentialInput extends CredentialInput {
  @ApiProperty({ enum: ['openstack'] })
  @Equals('openstack')
  type!: 'openstack';

  @ApiProperty({ example: 'https://keystone.example.org:5000/v3' })
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  @MaxLength(512)
  authUrl!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  username!: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  password!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  projectName!: string;

  @ApiPropertyOptional({ default: 'Default' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  domain?: string;

  @ApiPropertyOptional({ example: 'RegionOne' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  region?: string;
}

export class SshHostCredentialInput extends CredentialInput {
  @ApiProperty({ enum: ['ssh-host'] })
  @Equals('ssh-host')
  type!: 'ssh-host';

  @ApiProperty({ example: '203.0.113.10' })
  @Matches(/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/, {
    message: 'host must be a hostname or an IP address',
  })
  host!: string;

  @ApiPropertyOptional({ default: 22 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  port?: number;

  @ApiProperty({ example: 'ubuntu' })
  @Matches(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'username must be a Linux user name' })
  username!: string;

  @ApiProperty({
    enum: ['generated-key', 'uploaded-key'],
    description: 'generated-key: your Fieldstation SSH key (add its public half to the host)',
  })
  @IsIn(['generated-key', 'uploaded-key'])
  auth!: 'generated-key' | 'uploaded-key';

  @ApiPropertyOptional({ writeOnly: true, description: 'OpenSSH private key, for uploaded-key' })
  @IsOptional()
  @IsString()
  @MaxLength(16384)
  privateKey?: string;
}

/** Object storage for backups: any S3-compatible service (AWS S3, MinIO, B2, Wasabi, Ceph RGW). */
export class S3CredentialInput extends CredentialInput {
  @ApiProperty({ enum: ['s3'] })
  @Equals('s3')
  type!: 's3';

  @ApiProperty({ example: 'https://s3.eu-central-1.amazonaws.com' })
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  @MaxLength(512)
  endpoint!: string;

  @ApiProperty({ example: 'eu-central-1', description: 'us-east-1 for services without regions' })
  @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/, {
    message: 'region must be a region name such as eu-central-1',
  })
  region!: string;

  @ApiProperty({ example: 'fieldstation-backups' })
  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message: 'bucket must be a bucket name (3-63 lowercase letters, digits, dots, hyphens)',
  })
  bucket!: string;

  @ApiPropertyOptional({ example: 'backups/', description: 'Key prefix inside the bucket' })
  @IsOptional()
  @Matches(/^(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*\/?$/, {
    message: 'prefix must be a key prefix such as backups/ (letters, digits, . _ - and /)',
  })
  @MaxLength(256)
  prefix?: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @MinLength(3)
  @MaxLength(128)
  accessKeyId!: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @MinLength(3)
  @MaxLength(256)
  secretAccessKey!: string;

  @ApiPropertyOptional({
    default: true,
    description: 'Bucket in the path (MinIO, Ceph) rather than in the host name (AWS)',
  })
  @IsOptional()
  @IsBoolean()
  pathStyle?: boolean;
}

/** Updates: every field optional; the type never changes; a secret given here replaces the old. */
export class AwsCredentialUpdate extends PartialType(AwsCredentialInput) {}
export class GcpCredentialUpdate extends PartialType(GcpCredentialInput) {}
export class OpenstackCredentialUpdate extends PartialType(OpenstackCredentialInput) {}
export class SshHostCredentialUpdate extends PartialType(SshHostCredentialInput) {}
export class S3CredentialUpdate extends PartialType(S3CredentialInput) {}
