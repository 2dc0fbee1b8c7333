import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { AuditEventType } from './audit-event.entity';

export class ListAuditEventsQuery {
  @ApiProperty({ required: false, default: 100, minimum: 1, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class AuditEventDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: AuditEventType, enumName: 'AuditEventType' }) type!: AuditEventType;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  details!: Record<string, string> | null;
  @ApiProperty() createdAt!: Date;
}
