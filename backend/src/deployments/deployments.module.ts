import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeploymentEvents } from './deployment-events';
import { DeploymentLogEntry } from './deployment-log-entry.entity';
import { Deployment } from './deployment.entity';
import { DeploymentLog } from './deployment-log';
import { DeploymentStream } from './deployment-stream';
import { DeploymentsController } from './deployments.controller';
import { DeploymentsService } from './deployments.service';

@Module({
  imports: [TypeOrmModule.forFeature([Deployment, DeploymentLogEntry])],
  controllers: [DeploymentsController],
  providers: [DeploymentsService, DeploymentLog, DeploymentEvents, DeploymentStream],
  exports: [DeploymentsService, DeploymentLog],
})
export class DeploymentsModule {}
