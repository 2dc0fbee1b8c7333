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

  list(userId: string, limit: number): Promise<AuditEvent[]> {
    return this.events.find({ where: { userId }, order: { createdAt: 'DESC' }, take: limit });
  }
}
