import { Injectable } from '@nestjs/common';
import { cloudCredentialsOf } from '../credentials/cloud-credentials';
import { CredentialsService } from '../credentials/credentials.service';
import {
  CloudStacks,
  PLATFORM_OUTPUTS,
  readOutputs,
  stackRequest,
  type InfraLogSink,
  type PlatformOutputs,
  type StackRequest,
} from '../infra';
import { SpacesService } from '../spaces/spaces.service';
import { UsersService } from '../users/users.service';
import type { PlatformKeyring } from './platform-access';
import type { Platform } from './platform.entity';

/** The cloud half of a platform: its VM, volume and address, through Terraform (DESIGN §6). */
@Injectable()
export class PlatformInfrastructure {
  constructor(
    private readonly stacks: CloudStacks,
    private readonly spaces: SpacesService,
    private readonly credentials: CredentialsService,
    private readonly users: UsersService,
  ) {}

  /** Throws a 400 naming the option when the cloud input is invalid; no-op for ssh-host. */
  async validate(platform: Platform): Promise<void> {
    if (platform.target !== 'ssh-host') await this.request(platform);
  }

  async apply(
    platform: Platform,
    keyring: PlatformKeyring,
    onEvent: InfraLogSink,
    signal: AbortSignal,
  ): Promise<PlatformOutputs> {
    const raw = await this.stacks.apply({
      ...(await this.run(platform, keyring, onEvent)),
      signal,
    });
    return readOutputs(raw, PLATFORM_OUTPUTS);
  }

  async destroy(
    platform: Platform,
    keyring: PlatformKeyring,
    onEvent: InfraLogSink,
    signal: AbortSignal,
  ): Promise<void> {
    await this.stacks.destroy({ ...(await this.run(platform, keyring, onEvent)), signal });
  }

  private async run(platform: Platform, keyring: PlatformKeyring, onEvent: InfraLogSink) {
    const credential = await keyring.credential(platform);
    return {
      userId: platform.userId,
      request: await this.request(platform),
      credentials: cloudCredentialsOf(credential),
      onEvent,
    };
  }

  private async request(platform: Platform): Promise<StackRequest> {
    const user = await this.users.findById(platform.userId);
    const base = {
      ...platform.options,
      platformId: platform.id,
      name: platform.name,
      dataVolumeGb: platform.dataVolumeGb,
      sshPublicKey: user!.sshPublicKey,
    };
    switch (platform.target) {
      case 'aws': {
        const space = await this.spaces.getById(platform.spaceId!);
        const outputs = space.outputs ?? {};
        return stackRequest('aws', 'platform', {
          region: space.options.region,
          ...base,
          space: {
            vpcId: outputs.vpcId,
            subnetId: outputs.subnetId,
            securityGroupId: outputs.securityGroupId,
            keyName: outputs.keyName,
          },
        });
      }
      case 'gcp': {
        const credential = await this.credentials.get(platform.userId, platform.credentialId);
        return stackRequest('gcp', 'platform', { project: credential.project, ...base });
      }
      case 'openstack': {
        const space = await this.spaces.getById(platform.spaceId!);
        const outputs = space.outputs ?? {};
        return stackRequest('openstack', 'platform', {
          region: space.options.region,
          flavorName: space.options.flavorName,
          imageName: space.options.imageName,
          ...base,
          space: {
            networkId: outputs.networkId,
            securityGroupId: outputs.securityGroupId,
            externalPool: outputs.externalPool,
          },
        });
      }
      case 'ssh-host':
        throw new Error('ssh-host platforms have no infrastructure stack');
    }
  }
}
