import { Controller, Get, Inject, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MetricsQuery, MetricsSeriesDto, PlatformReadingsSummaryDto } from './dto/metrics.dto';
import { MetricsHistory } from './metrics-history';

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('platforms/:id/metrics')
export class MetricsController {
  constructor(
    private readonly history: MetricsHistory,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOkResponse({
    type: MetricsSeriesDto,
    description: 'The sampled history, one point per health check (default each minute)',
  })
  async getMetrics(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: MetricsQuery,
  ): Promise<MetricsSeriesDto> {
    const range = query.range ?? '1h';
    const series = await this.history.series(auth.userId, id, range, new Date());
    return { range, intervalSeconds: this.config.healthCheckIntervalSeconds, ...series };
  }
}

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('platforms/metrics')
export class MetricsSummaryController {
  constructor(private readonly history: MetricsHistory) {}

  @Get('summary')
  @ApiOkResponse({
    type: [PlatformReadingsSummaryDto],
    description: "Readings in per second over the last hour, for each of the user's platforms",
  })
  async getMetricsSummary(@Auth() auth: AuthContext): Promise<PlatformReadingsSummaryDto[]> {
    return this.history.readingsSummary(auth.userId, new Date());
  }
}
