import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { isUniqueViolation } from '../common/unique-violation';
import { DeploymentEvents, type LogEvent } from './deployment-events';
import { DeploymentLogEntry, type LogData, type LogLevel } from './deployment-log-entry.entity';

/** Writers racing for one deployment's next line number: more than a few means something else. */
const MAX_SEQ_ATTEMPTS = 5;

export interface LogLine {
  level?: LogLevel;
  step?: string | null;
  message: string;
  data?: LogData;
}

/**
 * The stored, ordered log of each deployment. Lines are numbered per deployment; the number is
 * the SSE event id a reconnecting browser resumes from.
 */
@Injectable()
export class DeploymentLog {
  private readonly nextSeq = new Map<string, number>();

  constructor(
    @InjectRepository(DeploymentLogEntry) private readonly entries: Repository<DeploymentLogEntry>,
    private readonly events: DeploymentEvents,
  ) {}

  async append(deploymentId: string, line: LogLine): Promise<LogEvent> {
    for (let attempt = 1; ; attempt++) {
      const entry = this.entries.create({
        deploymentId,
        seq: await this.allocateSeq(deploymentId),
        level: line.level ?? 'info',
        step: line.step ?? null,
        message: line.message,
        data: line.data ?? null,
        createdAt: new Date(),
      });
      try {
        await this.entries.insert(entry);
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= MAX_SEQ_ATTEMPTS) throw error;
        // Another writer took this number: count on from what is stored.
        this.nextSeq.delete(deploymentId);
        continue;
      }
      const event = toLogEvent(entry);
      await this.events.publish(deploymentId, event);
      return event;
    }
  }

  async listAfter(deploymentId: string, afterSeq: number): Promise<LogEvent[]> {
    const entries = await this.entries.find({
      where: { deploymentId, seq: MoreThan(afterSeq) },
      order: { seq: 'ASC' },
    });
    return entries.map(toLogEvent);
  }

  /**
   * A counter per deployment seeded from the table. The job is its main writer, but the API
   * writes too (a cancel request), so `append` takes the next number when one is taken.
   */
  private async allocateSeq(deploymentId: string): Promise<number> {
    let next = this.nextSeq.get(deploymentId);
    if (next === undefined) {
      const last = await this.entries.findOne({ where: { deploymentId }, order: { seq: 'DESC' } });
      next = (last?.seq ?? 0) + 1;
    }
    this.nextSeq.set(deploymentId, next + 1);
    return next;
  }

  forget(deploymentId: string): void {
    this.nextSeq.delete(deploymentId);
  }
}

function toLogEvent(entry: DeploymentLogEntry): LogEvent {
  return {
    type: 'log',
    seq: entry.seq,
    level: entry.level,
    step: entry.step,
    message: entry.message,
    data: entry.data,
    createdAt: entry.createdAt.toISOString(),
  };
}
