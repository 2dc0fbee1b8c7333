import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * A platform remembers the script and packages that ran before its last processor update, so a
 * new script that does not load on the host is rolled back in the record as it is on the host.
 */
export class PlatformPreviousProcessor1764000400000 implements MigrationInterface {
  name = 'PlatformPreviousProcessor1764000400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumns('platforms', [
      new TableColumn({ name: 'previousProcessorScript', ...t.text, isNullable: true }),
      new TableColumn({ name: 'previousProcessorPackages', ...t.text, isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('platforms', 'previousProcessorPackages');
    await queryRunner.dropColumn('platforms', 'previousProcessorScript');
  }
}
