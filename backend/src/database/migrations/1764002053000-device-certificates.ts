import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * Certificate devices (issue 14 item 4): a device keeps its current client certificate (public)
 * and when it expires. A certificate-only device has no password, which `password` allowed
 * already (null once revoked).
 */
export class DeviceCertificates1764002053000 implements MigrationInterface {
  name = 'DeviceCertificates1764002053000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumns('devices', [
      new TableColumn({ name: 'certificatePem', ...t.text, isNullable: true }),
      new TableColumn({ name: 'certificateExpiresAt', ...t.date, isNullable: true }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('devices', 'certificateExpiresAt');
    await queryRunner.dropColumn('devices', 'certificatePem');
  }
}
