import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { ProvisionModule } from '../provision/provision.module';
import { UsersModule } from '../users/users.module';
import { CredentialHostCheck } from './credential-host-check';
import { Credential } from './credential.entity';
import { CredentialUsage } from './credential-usage';
import { CredentialConnectionTests } from './credential-connection-tests';
import { S3ConnectionTest } from './s3-connection-test';
import { TargetAddresses } from './target-address';
import { CredentialsController } from './credentials.controller';
import { CredentialsService } from './credentials.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([Credential]),
    AuthModule,
    AuditModule,
    ProvisionModule,
    UsersModule,
  ],
  controllers: [CredentialsController],
  providers: [
    CredentialsService,
    CredentialUsage,
    CredentialHostCheck,
    CredentialConnectionTests,
    S3ConnectionTest,
    TargetAddresses,
  ],
  exports: [CredentialsService, CredentialUsage],
})
export class CredentialsModule {}
