import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import type { AuthContext } from '../common/auth-context';
import { SessionsService } from '../auth/sessions.service';
import { DataKey } from '../crypto/data-key';
import { ServerKey } from '../crypto/server-key';
import { DeploymentGrant } from './deployment-grant.entity';

export const DEFAULT_GRANT_TTL_MS = 6 * 60 * 60 * 1000;

export class GrantUnavailableError extends Error {}

/**
 * How a background deployment reads the user's secrets without the password (DESIGN §4): the
 * request that starts it copies the session's data key into a grant bound to the deployment id;
 * the worker opens the grant while it runs and deletes it when the deployment ends.
 */
@Injectable()
export class DeploymentGrants {
  constructor(
    @InjectRepository(DeploymentGrant) private readonly grants: Repository<DeploymentGrant>,
    private readonly sessions: SessionsService,
    private readonly serverKey: ServerKey,
  ) {}

  async issue(
    auth: AuthContext,
    deploymentId: string,
    ttlMs = DEFAULT_GRANT_TTL_MS,
  ): Promise<void> {
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    await this.issueWithKey(auth.userId, deploymentId, dataKey, ttlMs);
  }

  /**
   * The same grant from a data key the caller already holds: a standing grant's, for work a user
   * set up to run without a session (a scheduled backup, DESIGN §11).
   */
  async issueWithKey(
    userId: string,
    deploymentId: string,
    dataKey: DataKey,
    ttlMs = DEFAULT_GRANT_TTL_MS,
  ): Promise<void> {
    await this.grants.save({
      deploymentId,
      userId,
      wrappedDataKey: this.serverKey.wrap(dataKey.bytes(), grantContext(deploymentId, userId)),
      expiresAt: new Date(Date.now() + ttlMs),
    });
  }

  /** The data key for a running deployment; throws once the grant expired or was revoked. */
  async open(deploymentId: string, userId: string): Promise<DataKey> {
    const grant = await this.grants.findOneBy({ deploymentId, userId });
    if (!grant) throw new GrantUnavailableError(`No grant for deployment ${deploymentId}`);
    if (grant.expiresAt.getTime() <= Date.now()) {
      await this.revoke(deploymentId);
      throw new GrantUnavailableError(`The grant for deployment ${deploymentId} has expired`);
    }
    return DataKey.fromBytes(
      this.serverKey.unwrap(grant.wrappedDataKey, grantContext(deploymentId, userId)),
    );
  }

  async revoke(deploymentId: string): Promise<void> {
    await this.grants.delete({ deploymentId });
  }

  async deleteExpired(): Promise<void> {
    await this.grants.delete({ expiresAt: LessThan(new Date()) });
  }
}

function grantContext(deploymentId: string, userId: string): string {
  return `grant:${deploymentId}:${userId}`;
}
