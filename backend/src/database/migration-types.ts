import type { QueryRunner } from 'typeorm';

/**
 * Column types for migrations, resolved for the engine at hand the same way TypeORM resolves
 * the entities' types (`Date` → datetime on SQLite, timestamp on PostgreSQL), so one migration
 * file serves both engines and matches the entities exactly.
 */
export function migrationTypes(queryRunner: QueryRunner) {
  const driver = queryRunner.connection.driver;
  return {
    id: { type: 'varchar', length: '36' },
    text: { type: 'text' },
    varchar: (length: number) => ({ type: 'varchar', length: String(length) }),
    integer: { type: 'integer' },
    boolean: { type: driver.normalizeType({ type: 'boolean' }) },
    date: { type: driver.normalizeType({ type: Date }) },
    /** What @CreateDateColumn/@UpdateDateColumn use: datetime('now') on SQLite, now() on PostgreSQL. */
    createdDate: {
      type: driver.normalizeType({ type: Date }),
      default: driver.mappedDataTypes.createDateDefault,
    },
  } as const;
}
