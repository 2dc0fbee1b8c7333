import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository, type DeepPartial } from 'typeorm';
import { ApiError } from '../common/api-error';
import { isUniqueViolation } from '../common/unique-violation';
import {
  notFailed,
  transition,
  type PlatformStatus,
  type PlatformStep,
} from './platform-lifecycle';
import { Platform } from './platform.entity';

const notFound = () => new ApiError(HttpStatus.NOT_FOUND, 'PLATFORM_NOT_FOUND', 'No such platform');

/**
 * Platform records: the one place that reads and writes the platform table, for the API
 * (requests) and the worker (jobs, health checks) alike. Every status change goes through
 * `moveTo`, which applies the lifecycle (DESIGN §5).
 */
@Injectable()
export class PlatformRecords {
  constructor(@InjectRepository(Platform) private readonly platforms: Repository<Platform>) {}

  /** A new, unsaved record (nothing is stored until `insert`). */
  create(fields: DeepPartial<Platform>): Platform {
    return this.platforms.create(fields);
  }

  /** Stores a new record; a name the user already has is a 409 PLATFORM_NAME_TAKEN. */
  async insert(platform: Platform): Promise<void> {
    try {
      await this.platforms.insert(platform);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_NAME_TAKEN',
        `You already have a platform named "${platform.name}"`,
        [{ field: 'name', problems: ['is taken'] }],
      );
    }
  }

  /** The user's platforms, destroyed ones aside, newest first. */
  listOwned(userId: string): Promise<Platform[]> {
    return this.platforms.find({
      where: { userId, status: Not('destroyed') },
      order: { createdAt: 'DESC' },
    });
  }

  /** Every platform of the user, destroyed ones too (listed until removed), newest first. */
  listAll(userId: string): Promise<Platform[]> {
    return this.platforms.find({ where: { userId }, order: { createdAt: 'DESC' } });
  }

  /** Deletes a platform's record (what refers to it goes with it, cascade). */
  async remove(id: string): Promise<void> {
    await this.platforms.delete({ id });
  }

  /** One of the user's platforms; 404 when it is someone else's or does not exist. */
  async getOwned(userId: string, id: string): Promise<Platform> {
    const platform = await this.platforms.findOneBy({ id, userId });
    if (!platform) throw notFound();
    return platform;
  }

  /** Any platform by id: for the worker, which acts on behalf of the platform's owner. */
  async getById(id: string): Promise<Platform> {
    const platform = await this.platforms.findOneBy({ id });
    if (!platform) throw notFound();
    return platform;
  }

  /**
   * The user's platforms whose brokers trust `platform`'s CA (itself included): a copy-from
   * gives a platform without a CA the source's, so a certificate of one opens the others too.
   */
  sharingCertificateAuthority(platform: Platform): Promise<Platform[]> {
    if (platform.caCertificatePem === null) return Promise.resolve([platform]);
    return this.platforms.find({
      where: { userId: platform.userId, caCertificatePem: platform.caCertificatePem },
      order: { createdAt: 'ASC' },
    });
  }

  /** Names of the user's platforms, destroyed ones aside, that use a credential. */
  async namesUsingCredential(userId: string, credentialId: string): Promise<string[]> {
    const using = await this.platforms.find({
      select: { name: true },
      where: { userId, credentialId, status: Not('destroyed') },
      order: { name: 'ASC' },
    });
    return using.map((platform) => platform.name);
  }

  running(): Promise<Platform[]> {
    return this.platforms.findBy({ status: 'running' });
  }

  /** The platform if it is running; null when it is not, or is gone. */
  findRunning(id: string): Promise<Platform | null> {
    return this.platforms.findOneBy({ id, status: 'running' });
  }

  /** Moves a platform along the lifecycle (DESIGN §5); every status change goes through here. */
  async moveTo(id: string, to: PlatformStatus, changes: Partial<Platform> = {}): Promise<Platform> {
    const platform = await this.getById(id);
    const next = platform.status === to ? platform : transition(platform, to);
    await this.platforms.update(
      { id },
      {
        ...changes,
        status: next.status,
        failedStep: next.failedStep,
        ...(to === 'destroyed' ? { activeName: null, health: null } : {}),
      },
    );
    return { ...platform, ...changes, ...next } as Platform;
  }

  /** Changes columns other than the status (use `moveTo` for that). */
  async save(id: string, changes: Partial<Omit<Platform, 'status' | 'failedStep'>>): Promise<void> {
    await this.platforms.update({ id }, changes);
  }

  /**
   * Saves `changes` (a CA and the secrets sealed with it) only while the platform's CA is still
   * `expected` (null: none yet), so a launch issuing one and a copy-from bringing another cannot
   * both win; false when another CA was stored meanwhile.
   */
  async saveIfCertificateAuthority(
    id: string,
    expected: string | null,
    changes: Partial<Omit<Platform, 'status' | 'failedStep'>>,
  ): Promise<boolean> {
    const { affected } = await this.platforms.update(
      { id, caCertificatePem: expected ?? IsNull() },
      changes,
    );
    return (affected ?? 0) > 0;
  }

  /**
   * Changes a failed platform's columns and the step its retry resumes at (a failed launch given
   * a new script); 409 when it is no longer failed (a deployment moved it meanwhile).
   */
  async saveFailed(
    id: string,
    changes: Partial<Omit<Platform, 'status' | 'failedStep'>>,
    resumeAt: PlatformStep,
  ): Promise<void> {
    const { affected } = await this.platforms.update(
      { id, status: 'failed' },
      { ...changes, failedStep: resumeAt },
    );
    if (!affected) throw notFailed();
  }

  /** Marks the Grafana password shown; false when it already was (one reveal per platform). */
  async markGrafanaPasswordRevealed(id: string): Promise<boolean> {
    const { affected } = await this.platforms.update(
      { id, grafanaPasswordRevealed: false },
      { grafanaPasswordRevealed: true },
    );
    return Boolean(affected);
  }
}
