import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * A platform remembers the readings retention in force before its last change, so a change whose
 * deployment fails is rolled back in the record as it is on the host.
 */
export class PlatformPreviousReadingsRetention1764002090000 implements MigrationInterface {
  name = 'PlatformPreviousReadingsRetention1764002090000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumn(
      'platforms',
      new TableColumn({ name: 'previousReadingsRetentionDays', ...t.integer, isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('platforms', 'previousReadingsRetentionDays');
  }
}
