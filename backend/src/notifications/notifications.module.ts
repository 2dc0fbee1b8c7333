import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { TargetAddresses } from '../credentials/target-address';
import { GrantsModule } from '../grants/grants.module';
import { NotificationChannel } from './notification-channel.entity';
import { NotificationChannels } from './notification-channels.service';
import { NotificationDelivery } from './notification-delivery.entity';
import { NotificationJobs } from './notification-jobs';
import { NotificationsController } from './notifications.controller';

/** Notification channels per user (issue 17): signed webhooks and ntfy topics, with a log. */
@Module({
  imports: [
    TypeOrmModule.forFeature([NotificationChannel, NotificationDelivery]),
    AuthModule,
    GrantsModule,
  ],
  controllers: [NotificationsController],
  providers: [NotificationChannels, NotificationJobs, TargetAddresses],
  exports: [NotificationChannels],
})
export class NotificationsModule {}
