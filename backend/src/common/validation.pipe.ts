import { HttpStatus, ValidationPipe } from '@nestjs/common';
import { validate, ValidationError, type ValidatorOptions } from 'class-validator';
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

/** Where `@ApiProperty` keeps a property's OpenAPI metadata (`DECORATORS.API_MODEL_PROPERTIES`). */
const API_MODEL_PROPERTIES = 'swagger/apiModelProperties';

function isDto(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype !== null && prototype !== Object.prototype;
}

/**
 * `null` for a property of an input class, unless its OpenAPI metadata says `nullable`.
 * class-validator's `@IsOptional()` (and `PartialType`) skip `null` like a missing field, so
 * `{"name": null}` would otherwise reach a service as a value (a 500, or "null" stored).
 */
export function nullFieldErrors(dto: object): ValidationError[] {
  const prototype = Object.getPrototypeOf(dto) as object;
  return Object.entries(dto).flatMap(([property, value]): ValidationError[] => {
    if (value === null) {
      const metadata = Reflect.getMetadata(API_MODEL_PROPERTIES, prototype, property) as
        { nullable?: boolean } | undefined;
      if (metadata?.nullable) return [];
      const error = new ValidationError();
      Object.assign(error, {
        target: dto,
        property,
        value,
        constraints: { isNotNull: `${property} must not be null (leave it out instead)` },
        children: [],
      });
      return [error];
    }
    const nested = Array.isArray(value)
      ? value.flatMap((item, index) => (isDto(item) ? [[String(index), item] as const] : []))
      : isDto(value)
        ? [[undefined, value] as const]
        : [];
    const children = nested.flatMap(([index, item]) => {
      const errors = nullFieldErrors(item);
      if (index === undefined || errors.length === 0) return errors;
      return [
        Object.assign(new ValidationError(), { property: index, value: item, children: errors }),
      ];
    });
    if (children.length === 0) return [];
    return [Object.assign(new ValidationError(), { target: dto, property, value, children })];
  });
}

/** Both checks every input class goes through: `null` fields first, then class-validator's. */
export async function validateInput(
  dto: object,
  options: ValidatorOptions = { whitelist: true, forbidNonWhitelisted: true },
): Promise<ValidationError[]> {
  const nulls = nullFieldErrors(dto);
  return nulls.length > 0 ? nulls : validate(dto, options);
}

class ApiValidationPipe extends ValidationPipe {
  protected override async validate(
    object: object,
    validatorOptions?: ValidatorOptions,
  ): Promise<ValidationError[]> {
    const nulls = nullFieldErrors(object);
    return nulls.length > 0 ? nulls : super.validate(object, validatorOptions);
  }
}

/** Validation at the edge: unknown fields rejected, null only where declared, errors per field. */
export function apiValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
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
