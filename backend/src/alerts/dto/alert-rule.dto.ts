import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDate,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  Matches,
  MaxLength,
  Max,
  Min,
  ValidateIf,
} from 'class-validator';
import {
  READING_ALERT_OPERATORS,
  READING_ALERT_VALUE_LIMIT,
  READING_NAME_MAX_LENGTH,
  READING_NAME_PATTERN,
  type ReadingAlertOperator,
} from '@fieldstation/platform-stack';
import { IsDnsLabel } from '../../common/dns-label';
import type { DeploymentStatus } from '../../deployments/deployment.entity';
import { ALERT_KINDS, type AlertKind, type AlertRule, type AlertState } from '../alert-rule.entity';
import type { AlertEvent, AlertEventKind } from '../alert-event.entity';
import type { AlertRuleChange } from '../alert-rules.service';

const DAY_MINUTES = 24 * 60;

export class CreateAlertRuleInput {
  @ApiProperty({ enum: ALERT_KINDS })
  @IsIn(ALERT_KINDS)
  kind!: AlertKind;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: DAY_MINUTES,
    description:
      'platform-unhealthy, queue-depth, disk-use, reading-threshold: how long the condition holds; ' +
      'device-silent: how long a device may stay silent; dead-letter-rate: the window the rate is ' +
      'measured over (required for these); backup-failed, certificate-expiring: not used (omit or 0)',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(DAY_MINUTES)
  minutes?: number;

  @ApiPropertyOptional({
    description:
      'dead-letter-rate: messages per minute; queue-depth: messages waiting; disk-use: percent of the data volume used; ' +
      'certificate-expiring: days before expiry (default 30) (these at least 0); reading-threshold: the value the field ' +
      'is compared with (may be negative)',
  })
  @IsOptional()
  @IsNumber({ allowInfinity: false, allowNaN: false })
  @Min(-READING_ALERT_VALUE_LIMIT)
  @Max(READING_ALERT_VALUE_LIMIT)
  threshold?: number;

  @ApiPropertyOptional({
    example: 'room',
    maxLength: READING_NAME_MAX_LENGTH,
    description: 'reading-threshold: the measurement (letters, digits, "_", inner "." or "-")',
  })
  @IsOptional()
  @MaxLength(READING_NAME_MAX_LENGTH)
  @Matches(READING_NAME_PATTERN, {
    message: 'measurement must be letters, digits and "_" (inner "." or "-")',
  })
  measurement?: string;

  @ApiPropertyOptional({
    example: 'temperature',
    maxLength: READING_NAME_MAX_LENGTH,
    description: 'reading-threshold: the data field (a nested one as `a.b`)',
  })
  @IsOptional()
  @MaxLength(READING_NAME_MAX_LENGTH)
  @Matches(READING_NAME_PATTERN, {
    message: 'field must be letters, digits and "_" (inner "." or "-")',
  })
  field?: string;

  @ApiPropertyOptional({ enum: READING_ALERT_OPERATORS, description: 'reading-threshold' })
  @IsOptional()
  @IsIn(READING_ALERT_OPERATORS)
  operator?: ReadingAlertOperator;

  @ApiPropertyOptional({ description: 'device-silent, reading-threshold: one device by name' })
  @IsOptional()
  @IsDnsLabel()
  device?: string;

  @ApiPropertyOptional({
    example: 'site:north',
    description: 'device-silent: devices with this label',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?:.{0,255}$/, {
    message: 'label must be key:value',
  })
  label?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 7 * DAY_MINUTES, default: 60 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * DAY_MINUTES)
  reNotifyMinutes?: number;
}

export class UpdateAlertRuleInput {
  @ApiPropertyOptional({ minimum: 0, maximum: DAY_MINUTES })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(DAY_MINUTES)
  minutes?: number;

  @ApiPropertyOptional({ description: 'At least 0, except for reading-threshold' })
  @IsOptional()
  @IsNumber({ allowInfinity: false, allowNaN: false })
  @Min(-READING_ALERT_VALUE_LIMIT)
  @Max(READING_ALERT_VALUE_LIMIT)
  threshold?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 7 * DAY_MINUTES })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * DAY_MINUTES)
  reNotifyMinutes?: number;

  @ApiPropertyOptional({
    type: Date,
    nullable: true,
    description: 'No notification before this time; null unmutes',
  })
  @ValidateIf((_, value) => value !== null)
  @IsOptional()
  @Type(() => Date)
  @IsDate()
  mutedUntil?: Date | null;
}

/** The outcome of the platform's latest `reading-alerts` deployment (the last apply to Grafana). */
export class GrafanaApplyDto {
  @ApiProperty({ format: 'uuid' }) deploymentId!: string;
  @ApiProperty({ enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] })
  status!: DeploymentStatus;
  @ApiProperty({ type: String, nullable: true, description: "The deployment's error if it failed" })
  error!: string | null;
}

export class AlertRuleDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) platformId!: string;
  @ApiProperty({ enum: ALERT_KINDS }) kind!: AlertKind;
  @ApiProperty() minutes!: number;
  @ApiProperty({ type: Number, nullable: true }) threshold!: number | null;
  @ApiProperty({ type: String, nullable: true }) measurement!: string | null;
  @ApiProperty({ type: String, nullable: true }) field!: string | null;
  @ApiProperty({ enum: READING_ALERT_OPERATORS, nullable: true })
  operator!: ReadingAlertOperator | null;
  @ApiProperty({ type: String, nullable: true }) device!: string | null;
  @ApiProperty({ type: String, nullable: true }) label!: string | null;
  @ApiProperty() reNotifyMinutes!: number;
  @ApiProperty({ type: Date, nullable: true }) mutedUntil!: Date | null;
  @ApiProperty({ enum: ['ok', 'firing'] }) state!: AlertState;
  @ApiProperty({ type: Date, nullable: true }) firingSince!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) lastNotifiedAt!: Date | null;
  @ApiProperty({ type: String, nullable: true, description: 'What the latest evaluation found' })
  detail!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiPropertyOptional({
    format: 'uuid',
    description:
      'reading-threshold on a running platform: the deployment taking the change to Grafana',
  })
  deploymentId?: string;
  @ApiPropertyOptional({
    type: GrafanaApplyDto,
    nullable: true,
    description:
      "reading-threshold in a list: the platform's latest reading-alerts deployment (null: none yet, the thresholds went with the launch)",
  })
  grafanaApply?: GrafanaApplyDto | null;
}

export class AlertEventDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) ruleId!: string;
  @ApiProperty() at!: Date;
  @ApiProperty({ enum: ['fired', 'renotified', 'resolved'] }) kind!: AlertEventKind;
  @ApiProperty() message!: string;
  @ApiProperty({ description: 'Sent to the channels (false while muted)' }) notify!: boolean;
}

export function toAlertRuleDto(
  rule: AlertRule,
  grafanaApply?: GrafanaApplyDto | null,
): AlertRuleDto {
  const { user: _user, platform: _platform, userId: _userId, ...fields } = rule;
  return rule.kind === 'reading-threshold' && grafanaApply !== undefined
    ? { ...fields, grafanaApply }
    : fields;
}

export function toAlertRuleChangeDto(change: AlertRuleChange): AlertRuleDto {
  const dto = toAlertRuleDto(change.rule);
  return change.deploymentId ? { ...dto, deploymentId: change.deploymentId } : dto;
}

export function toAlertEventDto(event: AlertEvent): AlertEventDto {
  const { rule: _rule, ...fields } = event;
  return fields;
}
