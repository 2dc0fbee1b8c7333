import { QueryFailedError } from 'typeorm';

/**
 * True when a write failed on a unique index (SQLite "UNIQUE constraint failed", PostgreSQL
 * "duplicate key value violates unique constraint"): the index, not a prior read, decides races.
 */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && /unique|duplicate/i.test(error.message);
}
