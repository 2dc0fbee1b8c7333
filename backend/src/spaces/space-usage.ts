import { Injectable } from '@nestjs/common';

/** How many of a user's live platforms sit in a space. */
export type PlatformsInSpaceCount = (userId: string, spaceId: string) => Promise<number>;

/**
 * Platforms register here how to count the live platforms in a space, so that deleting a space
 * can refuse while it is in use. Spaces never read the platform table itself, and importing the
 * platforms module here would make a cycle (it imports this module).
 */
@Injectable()
export class SpaceUsage {
  private count?: PlatformsInSpaceCount;

  register(count: PlatformsInSpaceCount): void {
    if (this.count) throw new Error('Space usage registered twice');
    this.count = count;
  }

  platformsIn(userId: string, spaceId: string): Promise<number> {
    if (!this.count) throw new Error('No feature registered how to count platforms in a space');
    return this.count(userId, spaceId);
  }
}
