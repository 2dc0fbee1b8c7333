import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '../auth/auth.module';
import { DeploymentGrant } from './deployment-grant.entity';
import { DeploymentGrants } from './deployment-grants.service';

@Module({
  imports: [TypeOrmModule.forFeature([DeploymentGrant]), AuthModule],
  providers: [DeploymentGrants],
  exports: [DeploymentGrants],
})
export class GrantsModule {}
