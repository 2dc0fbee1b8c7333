import { HttpStatus, Injectable } from '@nestjs/common';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { PlatformHost } from '../provision/platform-host';
import type { StoredReading } from '../provision/stored-readings';
import { PlatformAccess } from './platform-access';
import { PlatformRecords } from './platform-records';

/** Statuses in which the platform's database runs on its host. */
const READABLE = new Set(['running', 'updating']);

/** The newest readings of a platform, read from its database over the platform's SSH connection. */
@Injectable()
export class PlatformReadings {
  constructor(
    private readonly platforms: PlatformRecords,
    private readonly sessions: SessionsService,
    private readonly access: PlatformAccess,
    private readonly host: PlatformHost,
  ) {}

  async latest(auth: AuthContext, id: string, limit: number): Promise<StoredReading[]> {
    const platform = await this.platforms.getOwned(auth.userId, id);
    if (!READABLE.has(platform.status)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'NOT_RUNNING',
        `Readings can be read while the platform runs; it is ${platform.status}`,
      );
    }
    const keyring = this.access.open(await this.sessions.dataKey(auth.sessionId));
    const target = await keyring.sshTarget(platform);
    try {
      return await this.host.readings({
        platformId: platform.id,
        target,
        database: platform.database,
        limit,
      });
    } catch (error) {
      throw new ApiError(
        HttpStatus.BAD_GATEWAY,
        'READINGS_UNAVAILABLE',
        `The platform's database could not be read: ${(error as Error).message}`,
      );
    }
  }
}
