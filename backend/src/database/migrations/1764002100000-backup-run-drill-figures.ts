import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** A restore drill's run records its backup's time, the readings it restored and their newest. */
export class BackupRunDrillFigures1764002100000 implements MigrationInterface {
  name = 'BackupRunDrillFigures1764002100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumns('backup_runs', [
      new TableColumn({ name: 'backupCreatedAt', ...t.date, isNullable: true }),
      new TableColumn({ name: 'readingsCount', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'recoveryPointAt', ...t.date, isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['recoveryPointAt', 'readingsCount', 'backupCreatedAt']) {
      await queryRunner.dropColumn('backup_runs', column);
    }
  }
}
