import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Devices online and in total per metrics sample (issue 17: the Overview's devices chart). */
export class MetricSampleDevices1764002071700 implements MigrationInterface {
  name = 'MetricSampleDevices1764002071700';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumns('platform_metric_samples', [
      new TableColumn({ name: 'devicesOnline', ...t.integer, isNullable: true }),
      new TableColumn({ name: 'devicesTotal', ...t.integer, isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('platform_metric_samples', 'devicesTotal');
    await queryRunner.dropColumn('platform_metric_samples', 'devicesOnline');
  }
}
