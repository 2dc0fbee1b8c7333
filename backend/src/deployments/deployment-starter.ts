import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../common/auth-context';
import type { DataKey } from '../crypto/data-key';
import { DeploymentGrants } from '../grants/deployment-grants.service';
import type { DeploymentJobName } from '../jobs/job-names';
import { JobQueue } from '../jobs/job-queue.service';
import type { DeploymentAction } from './deployment.entity';
import { DeploymentsService, type DeploymentTarget } from './deployments.service';

/**
 * The API side of every long action: one deployment record (409 while another is active on the
 * same target), a grant so the worker can open the user's secrets, and a job whose id is the
 * deployment id, so a repeated enqueue is a no-op. The payload is the deployment id only.
 */
@Injectable()
export class DeploymentStarter {
  constructor(
    private readonly deployments: DeploymentsService,
    private readonly grants: DeploymentGrants,
    private readonly jobs: JobQueue,
  ) {}

  /** 409 DEPLOYMENT_IN_PROGRESS now, before the caller reads an upload it would then discard. */
  assertIdle(target: DeploymentTarget): Promise<void> {
    return this.deployments.assertIdle(target);
  }

  async start(
    auth: AuthContext,
    target: DeploymentTarget,
    action: DeploymentAction,
    jobName: DeploymentJobName,
    /** Runs before the job is queued, e.g. to store an upload the job will read. */
    prepare?: (deploymentId: string) => Promise<void>,
  ): Promise<string> {
    return this.startAs(
      auth.userId,
      (deploymentId) => this.grants.issue(auth, deploymentId),
      target,
      action,
      jobName,
      prepare,
    );
  }

  /**
   * The same without a session: the grant copies a data key the caller holds (a standing grant's,
   * for a scheduled backup).
   */
  startWithKey(
    userId: string,
    dataKey: DataKey,
    target: DeploymentTarget,
    action: DeploymentAction,
    jobName: DeploymentJobName,
    prepare?: (deploymentId: string) => Promise<void>,
  ): Promise<string> {
    return this.startAs(
      userId,
      (deploymentId) => this.grants.issueWithKey(userId, deploymentId, dataKey),
      target,
      action,
      jobName,
      prepare,
    );
  }

  private async startAs(
    userId: string,
    issueGrant: (deploymentId: string) => Promise<void>,
    target: DeploymentTarget,
    action: DeploymentAction,
    jobName: DeploymentJobName,
    prepare?: (deploymentId: string) => Promise<void>,
  ): Promise<string> {
    const deployment = await this.deployments.create(userId, target, action);
    try {
      await issueGrant(deployment.id);
      await prepare?.(deployment.id);
      await this.jobs.queue({
        name: jobName,
        data: { deploymentId: deployment.id },
        jobId: deployment.id,
      });
    } catch (error) {
      // Nothing will run it: free the target instead of leaving it blocked.
      await this.grants.revoke(deployment.id);
      await this.deployments.finish(deployment.id, 'failed', 'Could not queue the deployment');
      throw error;
    }
    return deployment.id;
  }
}
