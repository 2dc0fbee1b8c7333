import { HttpStatus } from '@nestjs/common';
import { ApiError } from '../common/api-error';
import {
  notFailed,
  transition,
  type PlatformStatus,
  type PlatformStep,
} from './platform-lifecycle';
import type { PlatformRecords } from './platform-records';
import type { Platform } from './platform.entity';

/**
 * PlatformRecords kept in a Map, for the fast test tier: the same contract (404s, the 409 on a
 * taken name, lifecycle moves through `transition`) without PostgreSQL. The HTTP tier checks
 * the real class against the database.
 */
export class InMemoryPlatformRecords implements Pick<PlatformRecords, keyof PlatformRecords> {
  private readonly rows = new Map<string, Platform>();

  create(fields: Partial<Platform>): Platform {
    return { createdAt: new Date(), updatedAt: new Date(), ...fields } as Platform;
  }

  async insert(platform: Platform): Promise<void> {
    const taken = [...this.rows.values()].some(
      (row) => row.activeName !== null && row.activeName === platform.activeName,
    );
    if (taken) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'PLATFORM_NAME_TAKEN',
        `You already have a platform named "${platform.name}"`,
        [{ field: 'name', problems: ['is taken'] }],
      );
    }
    this.rows.set(platform.id, structuredClone(platform));
  }

  async listOwned(userId: string): Promise<Platform[]> {
    return [...this.rows.values()]
      .filter((row) => row.userId === userId && row.status !== 'destroyed')
      .map((row) => structuredClone(row));
  }

  async listAll(userId: string): Promise<Platform[]> {
    return [...this.rows.values()]
      .filter((row) => row.userId === userId)
      .map((row) => structuredClone(row));
  }

  async sharingCertificateAuthority(platform: Platform): Promise<Platform[]> {
    if (platform.caCertificatePem === null) return [platform];
    return [...this.rows.values()]
      .filter(
        (row) =>
          row.userId === platform.userId && row.caCertificatePem === platform.caCertificatePem,
      )
      .map((row) => structuredClone(row));
  }

  async remove(id: string): Promise<void> {
    this.rows.delete(id);
  }

  async getOwned(userId: string, id: string): Promise<Platform> {
    const row = this.rows.get(id);
    if (!row || row.userId !== userId) throw notFound();
    return structuredClone(row);
  }

  async getById(id: string): Promise<Platform> {
    const row = this.rows.get(id);
    if (!row) throw notFound();
    return structuredClone(row);
  }

  async namesUsingCredential(userId: string, credentialId: string): Promise<string[]> {
    return (await this.listOwned(userId))
      .filter((row) => row.credentialId === credentialId)
      .map((row) => row.name)
      .sort();
  }

  async running(): Promise<Platform[]> {
    return [...this.rows.values()].filter((row) => row.status === 'running');
  }

  async findRunning(id: string): Promise<Platform | null> {
    const row = this.rows.get(id);
    return row?.status === 'running' ? structuredClone(row) : null;
  }

  async moveTo(id: string, to: PlatformStatus, changes: Partial<Platform> = {}): Promise<Platform> {
    const platform = await this.getById(id);
    const next = platform.status === to ? platform : transition(platform, to);
    const moved = {
      ...platform,
      ...changes,
      status: next.status,
      failedStep: next.failedStep,
      ...(to === 'destroyed' ? { activeName: null, health: null } : {}),
    };
    this.rows.set(id, moved);
    return structuredClone(moved);
  }

  async save(id: string, changes: Partial<Omit<Platform, 'status' | 'failedStep'>>): Promise<void> {
    const row = this.rows.get(id);
    if (row) this.rows.set(id, { ...row, ...structuredClone(changes) });
  }

  async saveIfCertificateAuthority(
    id: string,
    expected: string | null,
    changes: Partial<Omit<Platform, 'status' | 'failedStep'>>,
  ): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.caCertificatePem !== expected) return false;
    this.rows.set(id, { ...row, ...structuredClone(changes) });
    return true;
  }

  async saveFailed(
    id: string,
    changes: Partial<Omit<Platform, 'status' | 'failedStep'>>,
    resumeAt: PlatformStep,
  ): Promise<void> {
    const row = this.rows.get(id);
    if (row?.status !== 'failed') throw notFailed();
    this.rows.set(id, { ...row, ...structuredClone(changes), failedStep: resumeAt });
  }

  async markGrafanaPasswordRevealed(id: string): Promise<boolean> {
    const row = this.rows.get(id);
    if (!row || row.grafanaPasswordRevealed) return false;
    row.grafanaPasswordRevealed = true;
    return true;
  }

  /** Test set-up: puts a record in a given state directly. */
  put(platform: Platform): void {
    this.rows.set(platform.id, structuredClone(platform));
  }
}

const notFound = () => new ApiError(HttpStatus.NOT_FOUND, 'PLATFORM_NOT_FOUND', 'No such platform');
