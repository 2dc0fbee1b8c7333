import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { METRICS_RANGES, type MetricsRange } from '../metric-series';

export class MetricsQuery {
  @ApiPropertyOptional({ enum: METRICS_RANGES, default: '1h' })
  @IsOptional()
  @IsIn(METRICS_RANGES)
  range?: MetricsRange;
}

export class MetricPointDto {
  @ApiProperty() at!: Date;
  @ApiProperty({ enum: ['healthy', 'degraded', 'unreachable'] }) status!: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Messages the processor took from the queue, per second since the sample before',
  })
  readingsInPerSecond!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Readings the database confirmed' })
  readingsStoredPerSecond!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Messages dead-lettered' })
  failedPerSecond!: number | null;
  @ApiProperty({ type: Number, nullable: true }) queueDepth!: number | null;
  @ApiProperty({ type: Date, nullable: true }) lastReadingAt!: Date | null;
  @ApiProperty({ type: Number, nullable: true }) batchLatencyP50Ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) batchLatencyP99Ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) endToEndLatencyP50Ms!: number | null;
  @ApiProperty({ type: Number, nullable: true }) endToEndLatencyP99Ms!: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description:
      "Active devices with a broker connection at the sample's minute; null when the broker " +
      'could not be asked (also while no owner is signed in)',
  })
  devicesOnline!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Active (not revoked) devices' })
  devicesTotal!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Data volume use on the host, %' })
  diskUsedPercent!: number | null;
  @ApiProperty({ type: Number, nullable: true }) diskBytesFree!: number | null;
}

export class MetricsSeriesDto {
  @ApiProperty({ enum: METRICS_RANGES }) range!: MetricsRange;
  @ApiProperty() from!: Date;
  @ApiProperty() to!: Date;
  @ApiProperty({
    description: 'Seconds between samples (HEALTH_CHECK_INTERVAL_SECONDS, default 60)',
  })
  intervalSeconds!: number;
  @ApiProperty({
    type: [MetricPointDto],
    description:
      'Oldest first. Host figures (rates, queue, latency) are null while nobody who owns the ' +
      'platform is signed in: the health check reads the host only with a live session.',
  })
  points!: MetricPointDto[];
}

export class ReadingsRatePointDto {
  @ApiProperty() at!: Date;
  @ApiProperty({ type: Number, nullable: true, description: 'Messages in per second' })
  readingsInPerSecond!: number | null;
}

export class PlatformReadingsSummaryDto {
  @ApiProperty({ format: 'uuid' }) platformId!: string;
  @ApiProperty({ type: [ReadingsRatePointDto], description: 'The last hour, oldest first' })
  points!: ReadingsRatePointDto[];
}
