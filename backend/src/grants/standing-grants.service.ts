import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { DataKey } from '../crypto/data-key';
import { ServerKey } from '../crypto/server-key';
import { GrantUnavailableError } from './deployment-grants.service';
import { StandingGrant } from './standing-grant.entity';

/** A standing grant as its owner sees it: never the wrapped key. */
export interface StandingGrantSummary {
  id: string;
  purpose: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** What opening a grant gives the background work that holds its id. */
export interface OpenedStandingGrant {
  userId: string;
  purpose: string;
  dataKey: DataKey;
}

const PURPOSE = /^[a-z][a-z0-9-]{0,47}:[A-Za-z0-9._-]{1,79}$/;

/**
 * The one way work without a session reads a user's secrets (DESIGN §11): the request that sets
 * the work up (a schedule, a channel) issues a grant from the caller's live session; the work
 * opens it by id each time it runs. Revoking it (the user, or deleting what it serves) makes the
 * next open fail, and nothing else can open that user's data key without their password.
 */
@Injectable()
export class StandingGrants {
  constructor(
    @InjectRepository(StandingGrant) private readonly grants: Repository<StandingGrant>,
    private readonly sessions: SessionsService,
    private readonly serverKey: ServerKey,
  ) {}

  /**
   * Issues (or replaces) the grant for `purpose`, e.g. `backup-schedule:<id>`; answers its id.
   * One grant per purpose: issuing again revokes the old one.
   */
  async issue(auth: AuthContext, purpose: string): Promise<string> {
    if (!PURPOSE.test(purpose)) throw new Error(`Invalid standing grant purpose "${purpose}"`);
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const id = randomUUID();
    await this.grants.delete({ userId: auth.userId, purpose });
    await this.grants.insert({
      id,
      userId: auth.userId,
      purpose,
      wrappedDataKey: this.serverKey.wrap(dataKey.bytes(), context(id, auth.userId, purpose)),
      lastUsedAt: null,
    });
    return id;
  }

  /** The data key of a live grant; throws GrantUnavailableError once it was revoked. */
  async open(id: string): Promise<OpenedStandingGrant> {
    const grant = await this.grants.findOneBy({ id });
    if (!grant) throw new GrantUnavailableError(`The standing grant ${id} was revoked`);
    const dataKey = DataKey.fromBytes(
      this.serverKey.unwrap(grant.wrappedDataKey, context(id, grant.userId, grant.purpose)),
    );
    await this.grants.update({ id }, { lastUsedAt: new Date() });
    return { userId: grant.userId, purpose: grant.purpose, dataKey };
  }

  async list(userId: string): Promise<StandingGrantSummary[]> {
    const grants = await this.grants.find({ where: { userId }, order: { createdAt: 'ASC' } });
    return grants.map(({ id, purpose, createdAt, lastUsedAt }) => ({
      id,
      purpose,
      createdAt,
      lastUsedAt,
    }));
  }

  /** The user's revoke: 404 for a grant that is not theirs. */
  async revoke(userId: string, id: string): Promise<void> {
    const { affected } = await this.grants.delete({ id, userId });
    if (!affected) {
      throw new ApiError(HttpStatus.NOT_FOUND, 'GRANT_NOT_FOUND', 'No such standing grant');
    }
  }

  /** Deletes the grant of what is being deleted (a schedule, a channel); none is fine. */
  async revokeFor(userId: string, purpose: string): Promise<void> {
    await this.grants.delete({ userId, purpose });
  }
}

/** The wrapped key opens only for this grant, user and purpose (AAD). */
function context(id: string, userId: string, purpose: string): string {
  return `standing-grant:${id}:${userId}:${purpose}`;
}
