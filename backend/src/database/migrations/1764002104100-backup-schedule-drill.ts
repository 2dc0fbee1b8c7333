import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** A backup schedule may also drill its newest backup weekly ('off' for every existing one). */
export class BackupScheduleDrill1764002104100 implements MigrationInterface {
  name = 'BackupScheduleDrill1764002104100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumn(
      'backup_schedules',
      new TableColumn({ name: 'drill', ...t.varchar(8), default: "'off'" }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('backup_schedules', 'drill');
  }
}
