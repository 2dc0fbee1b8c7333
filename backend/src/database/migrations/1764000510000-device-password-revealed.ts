import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * A device remembers when its password was shown: the connection answer no longer carries
 * passwords, and a launch device's password can be revealed once (issue 14, security review).
 * Existing devices start unrevealed: until now their passwords were read from the connection
 * answer, so each owner may still need them once.
 */
export class DevicePasswordRevealed1764000510000 implements MigrationInterface {
  name = 'DevicePasswordRevealed1764000510000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumn(
      'devices',
      new TableColumn({ name: 'passwordRevealedAt', ...t.date, isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('devices', 'passwordRevealedAt');
  }
}
