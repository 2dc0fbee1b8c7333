import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Backup schedules per platform (issue 16). */
export class BackupSchedules1764001810000 implements MigrationInterface {
  name = 'BackupSchedules1764001810000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'backup_schedules',
        columns: [
          { name: 'id', ...t.id, isPrimary: true },
          { name: 'userId', ...t.id },
          { name: 'platformId', ...t.id },
          { name: 'credentialId', ...t.id },
          { name: 'cron', ...t.varchar(64) },
          { name: 'preset', ...t.varchar(16), isNullable: true },
          { name: 'keepLast', ...t.integer },
          { name: 'grantId', ...t.id },
          { name: 'createdAt', ...t.createdDate },
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
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('backup_schedules');
  }
}
