import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { Credential } from './credential.entity';
import { CredentialUsage } from './credential-usage';
import { TargetAddresses } from './target-address';
import { CredentialsController } from './credentials.controller';
import { CredentialsService } from './credentials.service';

@Module({
  imports: [TypeOrmModule.forFeature([Credential]), AuthModule, AuditModule],
  controllers: [CredentialsController],
  providers: [CredentialsService, CredentialUsage, TargetAddresses],
  exports: [CredentialsService, CredentialUsage],
})
export class CredentialsModule {}
