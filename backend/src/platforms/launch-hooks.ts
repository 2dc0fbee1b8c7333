import { Injectable } from '@nestjs/common';
import type { Platform } from './platform.entity';

export type PlatformLaunchHook = (platform: Platform) => Promise<void>;

/**
 * Where features above platforms add what a new platform starts with (alerts/: its default
 * rules). Runs once the record is stored, before the launch is queued; a hook that fails fails
 * the request, so nothing half-set-up launches.
 */
@Injectable()
export class PlatformLaunchHooks {
  private readonly hooks: PlatformLaunchHook[] = [];

  register(hook: PlatformLaunchHook): void {
    this.hooks.push(hook);
  }

  async run(platform: Platform): Promise<void> {
    for (const hook of this.hooks) await hook(platform);
  }
}
