import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountResources } from '../auth/account-resources';
import { AuthModule } from '../auth/auth.module';
import { CredentialUsage } from '../credentials/credential-usage';
import { CredentialsModule } from '../credentials/credentials.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { InfraModule } from '../infra';
import { UsersModule } from '../users/users.module';
import { Space } from './space.entity';
import { SpaceJobs } from './space-jobs';
import { SpacesController } from './spaces.controller';
import { SpacesService } from './spaces.service';
import { SpaceUsage } from './space-usage';

@Module({
  imports: [
    TypeOrmModule.forFeature([Space]),
    AuthModule,
    CredentialsModule,
    DeploymentsModule,
    InfraModule,
    UsersModule,
  ],
  controllers: [SpacesController],
  providers: [SpacesService, SpaceJobs, SpaceUsage],
  exports: [SpacesService, SpaceUsage],
})
export class SpacesModule implements OnModuleInit {
  constructor(
    private readonly credentialUsage: CredentialUsage,
    private readonly accountResources: AccountResources,
    private readonly spaces: SpacesService,
  ) {}

  onModuleInit(): void {
    this.credentialUsage.register('spaces', (userId, credentialId) =>
      this.spaces.namesUsingCredential(userId, credentialId),
    );
    this.accountResources.register('spaces', (userId) => this.spaces.countLive(userId));
  }
}
