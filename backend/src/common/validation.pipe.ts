import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { ApiError } from './api-error';

function flattenValidationErrors(
  errors: ValidationError[],
  parent = '',
): { field: string; problems: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, problems: Object.values(error.constraints) }] : [];
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** Validation at the edge: unknown fields rejected, types transformed, errors per field. */
export function apiValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: validationFailed,
  });
}

/** The 400 answer for class-validator errors: first problem in the message, all in details. */
export function validationFailed(errors: ValidationError[]): ApiError {
  const details = flattenValidationErrors(errors);
  const first = details[0];
  const message = first ? `${first.field}: ${first.problems[0]}` : 'Invalid request';
  return new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, details);
}

/** The same 400 answer for a zod schema's issues (cloud inputs are validated by the infra seam). */
export function schemaFailed(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix: string,
): ApiError {
  const details = issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    problems: [issue.message],
  }));
  const first = details[0];
  const message = first ? `${first.field}: ${first.problems[0]}` : 'Invalid request';
  return new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, details);
}
