import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { PlatformDevices } from '../platforms/platform-devices';
import { PlatformsModule } from '../platforms/platforms.module';
import { ProvisionModule } from '../provision/provision.module';
import { DeviceCommands } from './device-commands';
import { DeviceCertificates } from './device-certificates';
import { DeviceCertificatesController } from './device-certificates.controller';
import { DeviceImportStore } from './device-import-store';
import { DeviceImports } from './device-imports';
import { DeviceLocks } from './device-locks';
import { DeviceRegistry } from './device-registry';
import { Device } from './device.entity';
import { DevicesController, UnknownPublishersController } from './devices.controller';
import { RevokedDeviceCertificate } from './revoked-certificate.entity';
import { RevokedCertificates } from './revoked-certificates';

/** Device fleets of platforms (issue 14); registers itself as the platforms' device registry. */
@Module({
  imports: [
    TypeOrmModule.forFeature([Device, RevokedDeviceCertificate]),
    AuditModule,
    AuthModule,
    DeploymentsModule,
    PlatformsModule,
    ProvisionModule,
  ],
  controllers: [DevicesController, DeviceCertificatesController, UnknownPublishersController],
  providers: [
    DeviceRegistry,
    DeviceLocks,
    DeviceCertificates,
    DeviceCommands,
    DeviceImports,
    DeviceImportStore,
    RevokedCertificates,
  ],
  exports: [DeviceRegistry],
})
export class DevicesModule implements OnModuleInit {
  constructor(
    private readonly platformDevices: PlatformDevices,
    private readonly registry: DeviceRegistry,
  ) {}

  onModuleInit(): void {
    this.platformDevices.register(this.registry);
  }
}
