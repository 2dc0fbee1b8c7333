import { HttpStatus, Injectable } from '@nestjs/common';
import { type ConcurrencyLimit, type RateLimit, RateLimiter } from '../auth/rate-limiter';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import type { AuthContext } from '../common/auth-context';
import { PlatformAccess } from '../platforms/platform-access';
import { PlatformRecords } from '../platforms/platform-records';
import type { Platform } from '../platforms/platform.entity';
import { assertValidScript } from '../platforms/processor-script';
import { PlatformHost } from '../provision/platform-host';
import { ProcessorDebugging, ProcessorNotRunningError } from '../provision/processor-debugging';
import type { SshTarget } from '../provision/ssh-client';
import { STORED_READINGS_MAX } from '../provision/stored-readings';
import type {
  DeadLettersDto,
  DryRunInput,
  DryRunReportDto,
  ScriptLogDto,
} from './dto/script-debugging.dto';
import { toCount, toDeadLetters, toDryRunReport, toScriptLog } from './processor-answers';

/**
 * A dry run runs the user's script on their host for up to a few minutes: per user, one at a
 * time and a bounded number per window, counted before anything is looked up.
 */
export const DRY_RUN_CONCURRENCY: ConcurrencyLimit = {
  concurrent: 1,
  leaseSeconds: 300,
  code: 'DRY_RUN_IN_PROGRESS',
};
export const DRY_RUN_RATE: RateLimit = { limit: 20, windowSeconds: 600 };
export const dryRunLimitKey = (userId: string) => `dry-run:${userId}`;

/** Reading what the processor holds works while it runs (also during an update). */
const READABLE = new Set(['running', 'updating']);
/** Changing the queues or running a script waits until no update is under way. */
const CHANGEABLE = new Set(['running']);

/**
 * Script debugging for the Processing tab: the script's last log lines, the dead-letter queue
 * (list, replay, purge) and dry runs of a script version, all on the platform's running
 * processor over its SSH connection (provision/processor-debugging.ts).
 */
@Injectable()
export class ScriptDebugging {
  constructor(
    private readonly platforms: PlatformRecords,
    private readonly sessions: SessionsService,
    private readonly access: PlatformAccess,
    private readonly processor: ProcessorDebugging,
    private readonly host: PlatformHost,
    private readonly limiter: RateLimiter,
  ) {}

  async scriptLog(auth: AuthContext, id: string): Promise<ScriptLogDto> {
    return toScriptLog(
      await this.onProcessor(auth, id, READABLE, (platform, target) =>
        this.processor.scriptLog(platform.id, target),
      ),
    );
  }

  async deadLetters(auth: AuthContext, id: string): Promise<DeadLettersDto> {
    return toDeadLetters(
      await this.onProcessor(auth, id, READABLE, (platform, target) =>
        this.processor.listDeadLetters(platform.id, target),
      ),
    );
  }

  async replay(auth: AuthContext, id: string): Promise<{ replayed: number }> {
    const answer = await this.onProcessor(auth, id, CHANGEABLE, (platform, target) =>
      this.processor.replayDeadLetters(platform.id, target),
    );
    return { replayed: toCount(answer, 'replayed') };
  }

  async purge(auth: AuthContext, id: string): Promise<{ purged: number }> {
    const answer = await this.onProcessor(auth, id, CHANGEABLE, (platform, target) =>
      this.processor.purgeDeadLetters(platform.id, target),
    );
    return { purged: toCount(answer, 'purged') };
  }

  /** 429 `DRY_RUN_IN_PROGRESS` while the user's other dry run runs, `RATE_LIMITED` past the rate. */
  async dryRun(auth: AuthContext, id: string, input: DryRunInput): Promise<DryRunReportDto> {
    const key = dryRunLimitKey(auth.userId);
    const release = await this.limiter.holdSlot(key, DRY_RUN_CONCURRENCY);
    try {
      await this.limiter.consume(key, DRY_RUN_RATE);
      return await this.runDry(auth, id, input);
    } finally {
      await release();
    }
  }

  private async runDry(
    auth: AuthContext,
    id: string,
    input: DryRunInput,
  ): Promise<DryRunReportDto> {
    const answer = await this.onProcessor(auth, id, CHANGEABLE, async (platform, target) => {
      assertValidScript(input.scriptSource);
      const readings =
        input.from === 'readings'
          ? await this.host.readings({
              platformId: platform.id,
              target,
              database: platform.database,
              limit: STORED_READINGS_MAX,
            })
          : [];
      return this.processor.dryRun(platform.id, target, {
        scriptSource: input.scriptSource,
        from: input.from,
        // Oldest first, as they arrived.
        readings: readings.reverse(),
      });
    });
    return toDryRunReport(answer);
  }

  private async onProcessor<T>(
    auth: AuthContext,
    id: string,
    statuses: Set<string>,
    work: (platform: Platform, target: SshTarget) => Promise<T>,
  ): Promise<T> {
    const platform = await this.platforms.getOwned(auth.userId, id);
    if (!statuses.has(platform.status)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        'NOT_RUNNING',
        `This needs the platform running (and no update under way); it is ${platform.status}`,
      );
    }
    const keyring = this.access.open(await this.sessions.dataKey(auth.sessionId));
    const target = await keyring.sshTarget(platform);
    try {
      return await work(platform, target);
    } catch (error) {
      if (error instanceof ProcessorNotRunningError) {
        throw new ApiError(HttpStatus.CONFLICT, 'PROCESSOR_NOT_RUNNING', error.message);
      }
      if (error instanceof ApiError) throw error;
      throw new ApiError(
        HttpStatus.BAD_GATEWAY,
        'PROCESSOR_UNAVAILABLE',
        `The platform's processor could not be reached: ${(error as Error).message}`,
      );
    }
  }
}
