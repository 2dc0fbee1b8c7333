import { Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { cloudCredentialsOf } from '../credentials/cloud-credentials';
import { CredentialsService } from '../credentials/credentials.service';
import { infraLogger } from '../deployments/deployment-log-sinks';
import { DeploymentRunner, type DeploymentRun } from '../deployments/deployment-runner';
import { AWS_SPACE_OUTPUTS, CloudStacks, OPENSTACK_SPACE_OUTPUTS, readOutputs } from '../infra';
import { OnJob } from '../jobs/job-handler.decorator';
import { JobName, type DeploymentJobData } from '../jobs/job-names';
import { UsersService } from '../users/users.service';
import type { Space } from './space.entity';
import { SpacesService } from './spaces.service';

const TERRAFORM_TIMEOUT_MS = 30 * 60 * 1000;

/** Worker side of spaces: `terraform apply` on create, `terraform destroy` on delete. */
@Injectable()
export class SpaceJobs {
  constructor(
    private readonly runner: DeploymentRunner,
    private readonly spaces: SpacesService,
    private readonly credentials: CredentialsService,
    private readonly users: UsersService,
    private readonly stacks: CloudStacks,
  ) {}

  @OnJob(JobName.SpaceCreate)
  async create(_data: DeploymentJobData, job: Job<DeploymentJobData>): Promise<void> {
    await this.runner.run(
      job,
      async (run) => {
        const space = await this.spaces.getById(run.deployment.targetId);
        await this.spaces.setStatus(space.id, 'creating', { error: null });
        const raw = await run.step('provisioning_infra', TERRAFORM_TIMEOUT_MS, async (signal) =>
          this.stacks.apply({ ...(await this.stackRun(run, space)), signal }),
        );
        const outputs =
          space.target === 'aws'
            ? readOutputs(raw, AWS_SPACE_OUTPUTS)
            : readOutputs(raw, OPENSTACK_SPACE_OUTPUTS);
        await this.spaces.setStatus(space.id, 'ready', { outputs });
      },
      (deployment, error) =>
        this.spaces.setStatus(deployment.targetId, 'failed', { error: error.message }),
    );
  }

  @OnJob(JobName.SpaceDelete)
  async delete(_data: DeploymentJobData, job: Job<DeploymentJobData>): Promise<void> {
    await this.runner.run(
      job,
      async (run) => {
        const space = await this.spaces.getById(run.deployment.targetId);
        await this.spaces.setStatus(space.id, 'deleting');
        await run.step('destroying', TERRAFORM_TIMEOUT_MS, async (signal) =>
          this.stacks.destroy({ ...(await this.stackRun(run, space)), signal }),
        );
        await this.spaces.setStatus(space.id, 'deleted');
      },
      (deployment, error) =>
        this.spaces.setStatus(deployment.targetId, 'failed', { error: error.message }),
    );
  }

  private async stackRun(run: DeploymentRun, space: Space) {
    const user = await this.users.findById(space.userId);
    const credential = await this.credentials.resolve(
      space.userId,
      space.credentialId,
      run.dataKey,
    );
    return {
      userId: space.userId,
      request: this.spaces.stackRequest(space, user!.sshPublicKey),
      credentials: cloudCredentialsOf(credential),
      onEvent: infraLogger(run),
    };
  }
}
