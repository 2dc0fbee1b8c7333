import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Not, Repository } from 'typeorm';
import type { AuthContext } from '../common/auth-context';
import { ApiError } from '../common/api-error';
import { assertCredentialFor } from '../credentials/cloud-credentials';
import { CredentialsService } from '../credentials/credentials.service';
import { DeploymentStarter } from '../deployments/deployment-starter';
import { JobName } from '../jobs/job-names';
import { stackRequest, type StackRequest } from '../infra';
import { UsersService } from '../users/users.service';
import type { CreateSpaceInput } from './dto/space.dto';
import { Space, type SpaceStatus } from './space.entity';
import { SpaceUsage } from './space-usage';
import { isUniqueViolation } from '../common/unique-violation';

const notFound = () => new ApiError(HttpStatus.NOT_FOUND, 'SPACE_NOT_FOUND', 'No such space');

/** Owns spaces: the network home of AWS and OpenStack platforms (DESIGN §2). */
@Injectable()
export class SpacesService {
  constructor(
    @InjectRepository(Space) private readonly spaces: Repository<Space>,
    private readonly credentials: CredentialsService,
    private readonly users: UsersService,
    private readonly starter: DeploymentStarter,
    private readonly usage: SpaceUsage,
  ) {}

  list(userId: string): Promise<Space[]> {
    return this.spaces.find({
      where: { userId, status: Not('deleted') },
      order: { createdAt: 'DESC' },
    });
  }

  /** How many of the user's spaces are not deleted (account deletion waits for none). */
  countLive(userId: string): Promise<number> {
    return this.spaces.countBy({ userId, status: Not('deleted') });
  }

  async get(userId: string, id: string): Promise<Space> {
    const space = await this.spaces.findOneBy({ id, userId });
    if (!space) throw notFound();
    return space;
  }

  /** Names of the user's spaces, deleted ones aside, that use a credential. */
  async namesUsingCredential(userId: string, credentialId: string): Promise<string[]> {
    const using = await this.spaces.find({
      select: { name: true },
      where: { userId, credentialId, status: Not('deleted') },
      order: { name: 'ASC' },
    });
    return using.map((space) => space.name);
  }

  async create(
    auth: AuthContext,
    input: CreateSpaceInput,
  ): Promise<{ space: Space; deploymentId: string }> {
    assertCredentialFor(await this.credentials.get(auth.userId, input.credentialId), input.target);
    const space = this.spaces.create({
      id: randomUUID(),
      userId: auth.userId,
      name: input.name,
      activeName: `${auth.userId}:${input.name}`,
      target: input.target,
      credentialId: input.credentialId,
      options: input.options ?? {},
      status: 'creating',
      outputs: null,
      error: null,
    });
    // Validated now, with the same schema the job uses, so mistakes are a 400 and not a failed job.
    const user = await this.users.findById(auth.userId);
    this.stackRequest(space, user!.sshPublicKey);
    try {
      await this.spaces.insert(space);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ApiError(
        HttpStatus.CONFLICT,
        'SPACE_NAME_TAKEN',
        `You already have a space named "${input.name}"`,
        [{ field: 'name', problems: ['is taken'] }],
      );
    }
    const deploymentId = await this.starter.start(
      auth,
      { kind: 'space', id: space.id },
      'launch',
      JobName.SpaceCreate,
    );
    return { space, deploymentId };
  }

  async delete(auth: AuthContext, id: string): Promise<{ space: Space; deploymentId: string }> {
    const space = await this.get(auth.userId, id);
    if (space.status === 'deleted') {
      throw new ApiError(HttpStatus.CONFLICT, 'SPACE_DELETED', 'This space is already deleted');
    }
    const users = await this.usage.platformsIn(auth.userId, id);
    if (users > 0) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'SPACE_IN_USE',
        `${users} platform${users === 1 ? '' : 's'} still use${users === 1 ? 's' : ''} this space; destroy them first`,
      );
    }
    const deploymentId = await this.starter.start(
      auth,
      { kind: 'space', id },
      'destroy',
      JobName.SpaceDelete,
    );
    return { space, deploymentId };
  }

  /** The infra request of a space: its stored options plus what Fieldstation fills in. */
  stackRequest(space: Space, sshPublicKey: string): StackRequest {
    return stackRequest(space.target, 'space', {
      ...space.options,
      spaceId: space.id,
      name: space.name,
      // OpenStack spaces take no key pair (the platform's instance gets it).
      ...(space.target === 'aws' ? { sshPublicKey } : {}),
    });
  }

  async setStatus(
    id: string,
    status: SpaceStatus,
    changes: Partial<Pick<Space, 'outputs' | 'error'>> = {},
  ): Promise<void> {
    await this.spaces.update(
      { id },
      { status, ...changes, ...(status === 'deleted' ? { activeName: null } : {}) },
    );
  }

  async getById(id: string): Promise<Space> {
    const space = await this.spaces.findOneBy({ id });
    if (!space) throw notFound();
    return space;
  }
}
