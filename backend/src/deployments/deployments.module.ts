import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GrantsModule } from '../grants/grants.module';
import { DeploymentEvents } from './deployment-events';
import { DeploymentLogEntry } from './deployment-log-entry.entity';
import { Deployment } from './deployment.entity';
import { DeploymentLog } from './deployment-log';
import { DeploymentRunner } from './deployment-runner';
import { DeploymentStarter } from './deployment-starter';
import { DeploymentStream } from './deployment-stream';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';

@Module({
  imports: [TypeOrmModule.forFeature([Deployment, DeploymentLogEntry]), GrantsModule],
  controllers: [DeploymentsController],
  providers: [
    DeploymentsService,
    DeploymentLog,
    DeploymentEvents,
    DeploymentStream,
    DeploymentStarter,
    DeploymentRunner,
  ],
  exports: [DeploymentsService, DeploymentLog, DeploymentStarter, DeploymentRunner],
})
export class DeploymentsModule {}
