import { Injectable } from '@nestjs/common';

/** How many live records (of one kind) a user still has. */
export type LiveRecordCount = (userId: string) => Promise<number>;

/**
 * Where the features whose records outlive nothing but their machines (platforms, spaces)
 * register how to count a user's live ones, so that account deletion can refuse while any exist.
 * Auth never reads those tables itself, and importing their modules here would make a cycle
 * (they import this module).
 */
@Injectable()
export class AccountResources {
  private readonly counters = new Map<string, LiveRecordCount>();

  /** `kind` is the plural the 409 answer counts under, e.g. `platforms`. */
  register(kind: string, count: LiveRecordCount): void {
    if (this.counters.has(kind)) throw new Error(`Account resources "${kind}" registered twice`);
    this.counters.set(kind, count);
  }

  /** The user's live records per registered kind (0 included). */
  async liveCounts(userId: string): Promise<Record<string, number>> {
    const kinds = [...this.counters.keys()];
    const counts = await Promise.all(kinds.map((kind) => this.counters.get(kind)!(userId)));
    return Object.fromEntries(kinds.map((kind, i) => [kind, counts[i]]));
  }
}
