import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { DeploymentGrant } from './deployment-grant.entity';
import { DeploymentGrants } from './deployment-grants.service';
import { StandingGrant } from './standing-grant.entity';
import { StandingGrants } from './standing-grants.service';
import { StandingGrantsController } from './standing-grants.controller';

@Module({
  imports: [TypeOrmModule.forFeature([DeploymentGrant, StandingGrant]), AuthModule],
  controllers: [StandingGrantsController],
  providers: [DeploymentGrants, StandingGrants],
  exports: [DeploymentGrants, StandingGrants],
})
export class GrantsModule {}
