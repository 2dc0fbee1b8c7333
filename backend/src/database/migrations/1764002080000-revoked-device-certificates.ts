import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * Revoked device certificates per platform (issue 14 item 4): the serials a renewal replaced or a
 * revoke ended, which the platform's revocation list names until they expire.
 */
export class RevokedDeviceCertificates1764002080000 implements MigrationInterface {
  name = 'RevokedDeviceCertificates1764002080000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'revoked_device_certificates',
        columns: [
          { name: 'platformId', ...t.id, isPrimary: true },
          { name: 'serialNumber', ...t.varchar(64), isPrimary: true },
          { name: 'deviceName', ...t.varchar(63) },
          { name: 'reason', ...t.varchar(16) },
          { name: 'revokedAt', ...t.date },
          { name: 'expiresAt', ...t.date },
        ],
        foreignKeys: [
          {
            columnNames: ['platformId'],
            referencedTableName: 'platforms',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('revoked_device_certificates');
  }
}
