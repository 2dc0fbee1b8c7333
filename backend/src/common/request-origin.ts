import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Where a request came from, for sessions, rate limits and the audit log. */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

export const Origin = createParamDecorator((_: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<Request>();
  return {
    ip: request.ip ?? null,
    userAgent: request.get('user-agent')?.slice(0, 256) ?? null,
  } satisfies RequestOrigin;
});
