import { HttpException, HttpStatus } from '@nestjs/common';

/** The body of every error answer: `{ error: { code, message, details? } }` (DESIGN §3). */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Throw this from services: a stable machine-readable code plus a human message. */
export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string, details?: unknown) {
    super({ error: { code, message, details } } satisfies ApiErrorBody, status);
    this.message = message;
  }
}
