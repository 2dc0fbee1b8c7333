import type { MigrationInterface } from 'typeorm';

/**
 * Migrations in order. They use TypeORM's QueryRunner table API rather than raw SQL so that one
 * migration runs unchanged on SQLite and PostgreSQL.
 */
export const MIGRATIONS: (new () => MigrationInterface)[] = [];
