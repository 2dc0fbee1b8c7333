import { HttpStatus, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import { DeploymentsService } from '../deployments/deployments.service';
import { PlatformRecords } from './platform-records';
import type { Platform } from './platform.entity';
import { PlatformRetirementHooks } from './retirement-hooks';

/**
 * A destroyed platform stays listed, greyed, with its deployment log, until its owner removes it;
 * removing forgets the record and its deployments, and lets go of what features held for it
 * (retirement hooks: backup schedules and their grants). Only a destroyed platform can be removed.
 */
@Injectable()
export class PlatformRemoval {
  constructor(
    private readonly platforms: PlatformRecords,
    private readonly deployments: DeploymentsService,
    private readonly retirementHooks: PlatformRetirementHooks,
  ) {}

  list(userId: string): Promise<Platform[]> {
    return this.platforms.listAll(userId);
  }

  async remove(userId: string, id: string): Promise<void> {
    const platform = await this.platforms.getOwned(userId, id);
    if (platform.status !== 'destroyed') {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'NOT_DESTROYED',
        `Only a destroyed platform can be removed; ${platform.name} is ${platform.status}: destroy it first`,
      );
    }
    await this.retirementHooks.run(id);
    await this.deployments.removeForTarget(userId, id);
    await this.platforms.remove(id);
  }
}
