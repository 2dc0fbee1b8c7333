import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Auth, type AuthContext } from '../common/auth-context';
import { AuditEventDto, ListAuditEventsQuery } from './audit.dto';
import { AuditLog } from './audit-log.service';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit-events')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @ApiOkResponse({ type: [AuditEventDto] })
  async listAuditEvents(
    @Auth() auth: AuthContext,
    @Query() query: ListAuditEventsQuery,
  ): Promise<AuditEventDto[]> {
    const events = await this.audit.list(auth.userId, query.limit ?? 100);
    return events.map(({ id, type, ip, userAgent, details, createdAt }) => ({
      id,
      type,
      ip,
      userAgent,
      details,
      createdAt,
    }));
  }
}
