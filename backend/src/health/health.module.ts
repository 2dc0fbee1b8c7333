import { Module } from '@nestjs/common';
import { HealthController } from './health.controller';
import { HealthService } from './health.service';
import { LaunchPreflight } from './launch-preflight';

@Module({ controllers: [HealthController], providers: [HealthService, LaunchPreflight] })
export class HealthModule {}
