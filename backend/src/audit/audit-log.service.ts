import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { RequestOrigin } from '../common/request-origin';
import { AuditEvent, type AuditEventType } from './audit-event.entity';

/** Security events per user (DESIGN §4): readable by that user, never holding a secret. */
@Injectable()
export class AuditLog {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  async record(
    userId: string,
    type: AuditEventType,
    origin: RequestOrigin,
    details?: Record<string, string>,
  ): Promise<void> {
    await this.events.insert({
      id: randomUUID(),
      userId,
      type,
      ip: origin.ip,
      userAgent: origin.userAgent,
      details: details ?? null,
    });
  }

  /** Many events of one kind in few inserts (a bulk import's thousands of devices). */
  async recordMany(
    userId: string,
    type: AuditEventType,
    origin: RequestOrigin,
    details: Record<string, string>[],
  ): Promise<void> {
    const rows = details.map((detail) => ({
      id: randomUUID(),
      userId,
      type,
      ip: origin.ip,
      userAgent: origin.userAgent,
      details: detail,
    }));
    // SQLite binds at most 32,766 variables per statement: 200 rows of 6 stay far below.
    for (let start = 0; start < rows.length; start += 200) {
      await this.events.insert(rows.slice(start, start + 200));
    }
  }

  list(userId: string, limit: number): Promise<AuditEvent[]> {
    return this.events.find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
  }
}
