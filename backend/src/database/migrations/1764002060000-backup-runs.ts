import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Backup runs and restores from a backup (issue 16); daily/weekly retention of schedules. */
export class BackupRuns1764002060000 implements MigrationInterface {
  name = 'BackupRuns1764002060000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumns('backup_schedules', [
      new TableColumn({ name: 'keepDaily', ...t.integer, default: 0 }),
      new TableColumn({ name: 'keepWeekly', ...t.integer, default: 0 }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'backup_runs',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'platformId', ...t.id },
          { name: 'kind', ...t.varchar(16) },
          { name: 'scheduleId', ...t.id, isNullable: true },
          { name: 'deploymentId', ...t.id, isNullable: true },
          { name: 'credentialId', ...t.id },
          { name: 'status', ...t.varchar(16) },
          { name: 'objectKey', ...t.text, isNullable: true },
          { name: 'bytes', type: 'bigint', isNullable: true },
          { name: 'sha256', ...t.varchar(64), isNullable: true },
          { name: 'durationMs', ...t.integer, isNullable: true },
          { name: 'pruned', ...t.integer, isNullable: true },
          { name: 'error', ...t.text, isNullable: true },
          { name: 'sealedBackupKey', ...t.text, isNullable: true },
          { name: 'startedAt', ...t.createdDate },
          { name: 'finishedAt', ...t.date, isNullable: true },
        ],
        foreignKeys: [
          {
            columnNames: ['userId'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
          {
            columnNames: ['platformId'],
            referencedTableName: 'platforms',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'backup_runs',
      new TableIndex({ columnNames: ['platformId', 'startedAt'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('backup_runs');
    await queryRunner.dropColumn('backup_schedules', 'keepWeekly');
    await queryRunner.dropColumn('backup_schedules', 'keepDaily');
  }
}
