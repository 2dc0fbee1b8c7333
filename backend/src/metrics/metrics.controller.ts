import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { MetricsQuery, MetricsSeriesDto, PlatformReadingsSummaryDto } from './dto/metrics.dto';
import { SAMPLE_INTERVAL_MS } from './metric-series';
import { MetricsHistory } from './metrics-history';

@ApiTags('metrics')
@ApiBearerAuth()
@Controller('platforms/:id/metrics')
export class MetricsController {
  constructor(private readonly history: MetricsHistory) {}

  @Get()
  @ApiOkResponse({ type: MetricsSeriesDto, description: 'The sampled history, one point a minute' })
  async getMetrics(
    @Auth() auth: AuthContext,
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: MetricsQuery,
  ): Promise<MetricsSeriesDto> {
    const range = query.range ?? '1h';
    const series = await this.history.series(auth.userId, id, range, new Date());
    return { range, intervalSeconds: SAMPLE_INTERVAL_MS / 1000, ...series };
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
