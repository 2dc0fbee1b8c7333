import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BackupRun } from '../backups/backup-run.entity';
import { BackupSchedule } from '../backups/backup-schedule.entity';
import { Deployment } from '../deployments/deployment.entity';
import { DeploymentsModule } from '../deployments/deployments.module';
import { Device } from '../devices/device.entity';
import { MetricsModule } from '../metrics/metrics.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { PlatformHealthObservers } from '../platforms/health-observers';
import { PlatformLaunchHooks } from '../platforms/launch-hooks';
import { PlatformReadingAlerts } from '../platforms/platform-reading-alerts';
import { PlatformsModule } from '../platforms/platforms.module';
import { AlertEvent } from './alert-event.entity';
import { AlertMonitor } from './alert-monitor';
import { AlertRule } from './alert-rule.entity';
import { AlertRules } from './alert-rules.service';
import { AlertsController } from './alerts.controller';
import { ReadingAlertDeletion } from './reading-alert-deletion.entity';

/**
 * Alert rules per platform (issue 17): defaults at launch, judged after each health check;
 * reading thresholds go to the platform's Grafana, which judges them.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([
      AlertRule,
      AlertEvent,
      ReadingAlertDeletion,
      Device,
      BackupRun,
      BackupSchedule,
      Deployment,
    ]),
    DeploymentsModule,
    MetricsModule,
    NotificationsModule,
    PlatformsModule,
  ],
  controllers: [AlertsController],
  providers: [AlertRules, AlertMonitor],
})
export class AlertsModule implements OnModuleInit {
  constructor(
    private readonly observers: PlatformHealthObservers,
    private readonly launchHooks: PlatformLaunchHooks,
    private readonly readingAlerts: PlatformReadingAlerts,
    private readonly rules: AlertRules,
    private readonly monitor: AlertMonitor,
  ) {}

  onModuleInit(): void {
    this.launchHooks.register((platform) => this.rules.createDefaults(platform));
    this.readingAlerts.register({
      forPlatform: (platform) => this.rules.readingAlerts(platform),
      deletionsApplied: (platformId, uids) => this.rules.deletionsApplied(platformId, uids),
    });
    this.observers.register('alerts', async (observation) => {
      await this.monitor.observe(observation);
    });
  }
}
