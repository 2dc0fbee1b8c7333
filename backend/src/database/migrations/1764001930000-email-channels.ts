import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/** Email notification channels keep their SMTP settings (the password sits sealed in `secret`). */
export class EmailChannels1764001930000 implements MigrationInterface {
  name = 'EmailChannels1764001930000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumn(
      'notification_channels',
      new TableColumn({ name: 'smtp', ...t.text, isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('notification_channels', 'smtp');
  }
}
