import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiError } from '../common/api-error';
import { DeploymentEvents } from './deployment-events';
import {
  Deployment,
  FINISHED_STATUSES,
  type DeploymentAction,
  type DeploymentStatus,
  type DeploymentTargetKind,
} from './deployment.entity';
import { DeploymentLog } from './deployment-log';
import { isUniqueViolation } from '../common/unique-violation';

export interface DeploymentTarget {
  kind: DeploymentTargetKind;
  id: string;
}

const notFound = () =>
  new ApiError(HttpStatus.NOT_FOUND, 'DEPLOYMENT_NOT_FOUND', 'No such deployment');

function inProgress(target: DeploymentTarget, active: Deployment | null): ApiError {
  return new ApiError(
    HttpStatus.CONFLICT,
    'DEPLOYMENT_IN_PROGRESS',
    `A ${active?.action ?? 'deployment'} is already in progress for this ${target.kind}`,
    { deploymentId: active?.id },
  );
}

/** Work that follows the end of any deployment, given its finished record. */
export type DeploymentFinishedHook = (deployment: Deployment) => Promise<void>;

/** Owns deployment records: one active deployment per target, status changes announced live. */
@Injectable()
export class DeploymentsService {
  private readonly logger = new Logger(DeploymentsService.name);
  private readonly finishedHooks: { name: string; hook: DeploymentFinishedHook }[] = [];

  constructor(
    @InjectRepository(Deployment) private readonly deployments: Repository<Deployment>,
    private readonly events: DeploymentEvents,
    private readonly log: DeploymentLog,
  ) {}

  /** Records a queued deployment; 409 while another one of the same target is active. */
  async create(
    userId: string,
    target: DeploymentTarget,
    action: DeploymentAction,
  ): Promise<Deployment> {
    const deployment = this.deployments.create({
      id: randomUUID(),
      userId,
      targetKind: target.kind,
      targetId: target.id,
      action,
      status: 'queued',
      activeKey: `${target.kind}:${target.id}`,
      step: null,
      error: null,
      startedAt: null,
      finishedAt: null,
    });
    try {
      await this.deployments.insert(deployment);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw inProgress(target, await this.active(target));
    }
    return deployment;
  }

  /** The same 409 as {@link create}, checked before a request does costly work (an upload). */
  async assertIdle(target: DeploymentTarget): Promise<void> {
    const active = await this.active(target);
    if (active) throw inProgress(target, active);
  }

  /** The queued or running deployment that holds `target`, if any. */
  active(target: DeploymentTarget): Promise<Deployment | null> {
    return this.deployments.findOneBy({ activeKey: `${target.kind}:${target.id}` });
  }

  async get(userId: string, id: string): Promise<Deployment> {
    const deployment = await this.deployments.findOneBy({ id, userId });
    if (!deployment) throw notFound();
    return deployment;
  }

  /** For the worker, which acts on ids from job payloads. */
  async getById(id: string): Promise<Deployment> {
    const deployment = await this.deployments.findOneBy({ id });
    if (!deployment) throw notFound();
    return deployment;
  }

  listForTarget(userId: string, targetId: string): Promise<Deployment[]> {
    return this.deployments.find({
      where: { userId, targetId },
      order: { createdAt: 'DESC' },
      take: 50,
    });
  }

  /** Forgets every finished deployment of a target (its log entries go with them, cascade). */
  async removeForTarget(userId: string, targetId: string): Promise<void> {
    await this.deployments.delete({ userId, targetId });
  }

  /** 409 once finished; otherwise the worker is told (or finds out when it picks the job up). */
  async requestCancel(userId: string, id: string): Promise<Deployment> {
    const deployment = await this.get(userId, id);
    if (this.isFinished(deployment)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'DEPLOYMENT_FINISHED',
        `This deployment has already ${deployment.status}`,
      );
    }
    await this.events.requestCancel(id);
    await this.log.append(id, { level: 'warn', message: 'Cancel requested' });
    return deployment;
  }

  async startStep(id: string, step: string): Promise<void> {
    const deployment = await this.getById(id);
    await this.deployments.update(
      { id },
      { status: 'running', step, startedAt: deployment.startedAt ?? new Date() },
    );
    await this.events.publish(id, { type: 'status', status: 'running', step, error: null });
    await this.log.append(id, { step, message: `Step ${step} started` });
  }

  /**
   * Starts `hook` after every deployment that ends in this process (in {@link finish}, once the
   * record says so and the target is free; finish does not wait for it); features above
   * deployments (the platform health check) register here. A failing hook is logged.
   */
  whenFinished(name: string, hook: DeploymentFinishedHook): void {
    this.finishedHooks.push({ name, hook });
  }

  /** Ends the deployment; the target is free for the next one. */
  async finish(
    id: string,
    status: Exclude<DeploymentStatus, 'queued' | 'running'>,
    error?: string,
  ): Promise<void> {
    const deployment = await this.getById(id);
    const ended = { status, error: error ?? null, activeKey: null, finishedAt: new Date() };
    await this.deployments.update({ id }, ended);
    if (error) await this.log.append(id, { level: 'error', step: deployment.step, message: error });
    await this.events.publish(id, {
      type: 'status',
      status,
      step: deployment.step,
      error: error ?? null,
    });
    this.log.forget(id);
    // Not awaited: the job and its grant end now, whatever a hook (a health check over SSH) takes.
    for (const { name, hook } of this.finishedHooks) {
      void hook({ ...deployment, ...ended }).catch((hookError: Error) =>
        this.logger.error(`${name} after deployment ${id} failed: ${hookError.message}`),
      );
    }
  }

  isFinished(deployment: Deployment): boolean {
    return FINISHED_STATUSES.includes(deployment.status);
  }
}
