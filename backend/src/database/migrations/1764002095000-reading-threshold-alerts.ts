import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Reading thresholds that Grafana evaluates (issue 17 item 5): the measurement, field, operator. */
export class ReadingThresholdAlerts1764002095000 implements MigrationInterface {
  name = 'ReadingThresholdAlerts1764002095000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumns('alert_rules', [
      new TableColumn({ name: 'measurement', ...t.varchar(64), isNullable: true }),
      new TableColumn({ name: 'field', ...t.varchar(64), isNullable: true }),
      new TableColumn({ name: 'operator', ...t.varchar(2), isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('alert_rules', 'operator');
    await queryRunner.dropColumn('alert_rules', 'field');
    await queryRunner.dropColumn('alert_rules', 'measurement');
  }
}
