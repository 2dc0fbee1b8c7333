import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBase64, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';

export class BackupRunDto {
  @ApiProperty({ description: 'The deployment id when the run started one' }) id!: string;
  @ApiProperty({
    enum: ['backup', 'restore', 'drill'],
    description: 'drill: the newest backup restored into a scratch container on the host',
  })
  kind!: string;
  @ApiProperty({
    enum: ['running', 'succeeded', 'failed'],
    description: 'failed on any storage or verification failure (never "succeeded with a warning")',
  })
  status!: string;
  @ApiProperty({ type: String, nullable: true }) scheduleId!: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Its live log (GET /deployments/:id/events); null for a turn that could not start',
  })
  deploymentId!: string | null;
  @ApiProperty() credentialId!: string;
  @ApiProperty({ type: String, nullable: true, description: "The backup's object in the bucket" })
  objectKey!: string | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Size of the stored (encrypted) object',
  })
  bytes!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'SHA-256 of the stored object, verified by reading it back',
  })
  sha256!: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Older backups of the schedule that retention deleted',
  })
  pruned!: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "Why it failed, with the storage service's own message",
  })
  error!: string | null;
  @ApiProperty({ type: Date, nullable: true, description: "A drill's backup: when it was made" })
  backupCreatedAt!: Date | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'A drill: the readings the restored copy holds',
  })
  readingsCount!: number | null;
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'A drill: the recovery point it proved (the newest reading in the restored copy)',
  })
  recoveryPointAt!: Date | null;
  @ApiProperty() startedAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) finishedAt!: Date | null;
}

export class DrillAcceptedDto {
  @ApiProperty() deploymentId!: string;
}

export class RunNowAcceptedDto {
  @ApiProperty() deploymentId!: string;
}

/** A backup the bucket holds, read from its manifest. */
export class StoredBackupDto {
  @ApiProperty() objectKey!: string;
  @ApiProperty({ description: 'The platform it was made of (maybe on another install)' })
  platformId!: string;
  @ApiProperty({ type: String, nullable: true }) scheduleId!: string | null;
  @ApiProperty({ example: 'pgdump' }) dumpFormat!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'Size of the stored (encrypted) object' }) bytes!: number;
  @ApiProperty() sha256!: string;
  @ApiProperty({ description: 'Size of the dump before encryption' }) plaintextBytes!: number;
  @ApiProperty({
    description:
      'Whether your account opens its key; otherwise restoring it needs its backup key (e.g. a backup of another install)',
  })
  keyOpens!: boolean;
}

export class BackupObjectInput {
  @ApiProperty({ description: 'A stored backup, from GET /credentials/:id/backups' })
  @IsString()
  @MaxLength(1024)
  objectKey!: string;
}

export class RestoreBackupInput extends BackupObjectInput {
  @ApiProperty({ format: 'uuid', description: 'The s3 credential of the bucket' })
  @IsUUID()
  credentialId!: string;

  @ApiPropertyOptional({
    description:
      'The backup key (base64, 32 bytes) of a backup your account cannot open, e.g. one made by another install (POST /credentials/:id/backups/key there)',
  })
  @IsOptional()
  @IsBase64()
  @Length(44, 44)
  backupKey?: string;
}

export class BackupKeyDto {
  @ApiProperty({
    description:
      'Decrypts this one backup (AES-256-GCM key, base64): keep it like a password; give it to restore the backup elsewhere',
  })
  backupKey!: string;
}

export class RestoreAcceptedDto {
  @ApiProperty() deploymentId!: string;
}
