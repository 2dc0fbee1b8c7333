import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** The data volume's use in the metrics history (issue 17) and a platform's readings retention (issue 16). */
export class DiskAndReadingsRetention1764002071900 implements MigrationInterface {
  name = 'DiskAndReadingsRetention1764002071900';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    const figure = { type: 'double precision', isNullable: true };
    await queryRunner.addColumns('platform_metric_samples', [
      new TableColumn({ name: 'diskUsedPercent', ...figure }),
      new TableColumn({ name: 'diskBytesFree', ...figure }),
    ]);
    await queryRunner.addColumn(
      'platforms',
      new TableColumn({ name: 'readingsRetentionDays', ...t.integer, isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('platforms', 'readingsRetentionDays');
    await queryRunner.dropColumn('platform_metric_samples', 'diskBytesFree');
    await queryRunner.dropColumn('platform_metric_samples', 'diskUsedPercent');
  }
}
