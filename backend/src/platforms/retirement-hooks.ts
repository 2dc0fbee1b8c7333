import { Injectable } from '@nestjs/common';

export type PlatformRetirementHook = (platformId: string) => Promise<void>;

/**
 * Where features above platforms let go of what a platform held once it is gone (backups/: its
 * schedules, with their standing grants and job schedulers). Runs when a destroy succeeds and
 * again when the record is removed (before its rows cascade), so a platform destroyed before a
 * hook existed is cleaned up too; hooks must therefore be idempotent.
 */
@Injectable()
export class PlatformRetirementHooks {
  private readonly hooks: PlatformRetirementHook[] = [];

  register(hook: PlatformRetirementHook): void {
    this.hooks.push(hook);
  }

  async run(platformId: string): Promise<void> {
    for (const hook of this.hooks) await hook(platformId);
  }
}
