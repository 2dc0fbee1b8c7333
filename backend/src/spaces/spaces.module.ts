import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CredentialUsage } from '../credentials/credential-usage';
import { CredentialsModule } from '../credentials/credentials.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { InfraModule } from '../infra';
import { Platform } from '../platforms/platform.entity';
import { UsersModule } from '../users/users.module';
import { Space } from './space.entity';
import { SpaceJobs } from './space-jobs';
import { SpacesController } from './spaces.controller';
import { SpacesService } from './spaces.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([Space, Platform]),
    CredentialsModule,
    DeploymentsModule,
    InfraModule,
    UsersModule,
  ],
  controllers: [SpacesController],
  providers: [SpacesService, SpaceJobs],
  exports: [SpacesService],
})
export class SpacesModule implements OnModuleInit {
  constructor(
    private readonly credentialUsage: CredentialUsage,
    private readonly spaces: SpacesService,
  ) {}

  onModuleInit(): void {
    this.credentialUsage.register('spaces', (userId, credentialId) =>
      this.spaces.namesUsingCredential(userId, credentialId),
    );
  }
}
