import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { STORED_READINGS_MAX } from '../../provision/stored-readings';

export class ListReadingsQuery {
  @ApiProperty({ required: false, default: 20, minimum: 1, maximum: STORED_READINGS_MAX })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(STORED_READINGS_MAX)
  limit?: number;
}

export class ReadingDto {
  @ApiProperty({ example: '2026-12-02T21:48:32.000Z' }) time!: string;
  @ApiProperty({ example: 'room' }) measurement!: string;
  @ApiProperty({ example: 'sensor-1' }) device!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { celsius: 21.5 } })
  data!: Record<string, unknown>;
}
