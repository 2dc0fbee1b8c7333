import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
import type { ApiErrorBody } from './api-error';
import { MAX_JSON_DEPTH } from './json-depth';

const CODES_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
};

/** Body-parser errors carry a `type`; give them stable codes and plain messages. */
const BODY_PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'MALFORMED_JSON', message: 'Body is not valid JSON' },
  'entity.too.deep': {
    status: 400,
    code: 'JSON_TOO_DEEP',
    message: `Body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels`,
  },
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'Body is too large' },
  'encoding.unsupported': {
    status: 415,
    code: 'UNSUPPORTED_ENCODING',
    message: 'Unsupported body encoding',
  },
};

/** Turns every error into the `{ error: { code, message, details } }` shape of DESIGN §3. */
@Catch()
export class ApiErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.toBody(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? exception.stack : exception);
    const retryAfter = (body.error.details as { retryAfterSeconds?: unknown } | undefined)
      ?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') {
      response.setHeader('Retry-After', String(retryAfter));
    }
    response.status(status).json(body);
  }

  private toBody(exception: unknown): { status: number; body: ApiErrorBody } {
    // Nest wraps body-parser failures in an HttpException whose cause carries the parser's type.
    const parserType = (exception as { cause?: { type?: unknown } } | null)?.cause?.type;
    const parserError = typeof parserType === 'string' ? BODY_PARSER_ERRORS[parserType] : undefined;
    if (parserError) {
      return {
        status: parserError.status,
        body: { error: { code: parserError.code, message: parserError.message } },
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null && 'error' in response) {
        const error = (response as { error: unknown }).error;
        if (typeof error === 'object' && error !== null && 'code' in error) {
          return { status, body: response as ApiErrorBody };
        }
      }
      const code = CODES_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'REQUEST_FAILED');
      return { status, body: { error: { code, message: exception.message } } };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } },
    };
  }
}
