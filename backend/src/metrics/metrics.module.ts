import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DevicesModule } from '../devices/devices.module';
import { PlatformHealthObservers } from '../platforms/health-observers';
import { PlatformsModule } from '../platforms/platforms.module';
import { MetricsController, MetricsSummaryController } from './metrics.controller';
import { MetricsHistory } from './metrics-history';
import { PlatformMetricSample } from './platform-metric-sample.entity';

/** The metrics history (issue 17): each health check's sample, kept 7 days, as series. */
@Module({
  imports: [TypeOrmModule.forFeature([PlatformMetricSample]), PlatformsModule, DevicesModule],
  controllers: [MetricsController, MetricsSummaryController],
  providers: [MetricsHistory],
  exports: [MetricsHistory],
})
export class MetricsModule implements OnModuleInit {
  constructor(
    private readonly observers: PlatformHealthObservers,
    private readonly history: MetricsHistory,
  ) {}

  onModuleInit(): void {
    this.observers.register('metrics history', (observation) => this.history.record(observation));
  }
}
