import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { type BackupPreset, DRILL_CADENCES, type DrillCadence } from '../backup-schedule.entity';

export class CreateBackupScheduleInput {
  @ApiProperty({ format: 'uuid', description: 'An s3 credential: the bucket the backups go to' })
  @IsUUID()
  credentialId!: string;

  @ApiPropertyOptional({
    enum: ['hourly', 'daily', 'weekly'],
    description: 'hourly at :00, daily 03:00 UTC, weekly Sunday 03:00 UTC; or give cron',
  })
  @IsOptional()
  @IsIn(['hourly', 'daily', 'weekly'])
  preset?: BackupPreset;

  @ApiPropertyOptional({ example: '30 2 * * *', description: 'Five-field cron, UTC' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  cron?: string;

  @ApiPropertyOptional({ default: 7, minimum: 1, maximum: 1000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  keepLast?: number;

  @ApiPropertyOptional({
    default: 0,
    minimum: 0,
    maximum: 1000,
    description: 'Also keep the newest backup of each of the last N days (UTC) that have one',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  keepDaily?: number;

  @ApiPropertyOptional({
    default: 0,
    minimum: 0,
    maximum: 1000,
    description: 'Also keep the newest backup of each of the last N ISO weeks that have one',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  keepWeekly?: number;

  @ApiPropertyOptional({
    enum: DRILL_CADENCES,
    default: 'off',
    description:
      "weekly: the newest backup is also restored into a scratch container on the platform's host once a week, after one of the schedule's backups (PostgreSQL platforms)",
  })
  @IsOptional()
  @IsIn(DRILL_CADENCES, { message: "drill must be 'off' or 'weekly'" })
  drill?: DrillCadence;
}

export class BackupScheduleDto {
  @ApiProperty() id!: string;
  @ApiProperty() platformId!: string;
  @ApiProperty() credentialId!: string;
  @ApiProperty({ example: '0 3 * * *' }) cron!: string;
  @ApiProperty({ enum: ['hourly', 'daily', 'weekly'], nullable: true, type: String })
  preset!: BackupPreset | null;
  @ApiProperty() keepLast!: number;
  @ApiProperty() keepDaily!: number;
  @ApiProperty() keepWeekly!: number;
  @ApiProperty({ enum: DRILL_CADENCES, description: 'A weekly restore drill, or off' })
  drill!: DrillCadence;
  @ApiProperty({
    type: Date,
    nullable: true,
    description: 'When the next scheduled restore drill runs (null when off)',
  })
  nextDrillAt!: Date | null;
  @ApiProperty({ description: 'The standing grant its runs use (listed under /account/grants)' })
  grantId!: string;
  @ApiProperty() nextRunAt!: Date;
  @ApiProperty() createdAt!: Date;
}
