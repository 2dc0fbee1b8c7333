import { Injectable } from '@nestjs/common';

/** Names of a user's live records (of one kind) that use a credential. */
export type CredentialUserLookup = (userId: string, credentialId: string) => Promise<string[]>;

/**
 * Where the features whose records hold a credential id (platforms, spaces) register how to ask
 * them which records use it. Credentials never read those tables itself, and importing their
 * modules here would make a cycle (they import this module).
 */
@Injectable()
export class CredentialUsage {
  private readonly lookups = new Map<string, CredentialUserLookup>();

  /** `kind` is the plural the 409 answer lists names under, e.g. `platforms`. */
  register(kind: string, lookup: CredentialUserLookup): void {
    if (this.lookups.has(kind)) throw new Error(`Credential users "${kind}" registered twice`);
    this.lookups.set(kind, lookup);
  }

  /** The users of a credential by kind; kinds with none are left out. */
  async usersOf(userId: string, credentialId: string): Promise<Record<string, string[]>> {
    const users: Record<string, string[]> = {};
    for (const [kind, lookup] of this.lookups) {
      const names = await lookup(userId, credentialId);
      if (names.length > 0) users[kind] = names;
    }
    return users;
  }
}
