import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';
import { migrationTypes } from '../migration-types';

/**
 * Sessions remember the hash of the refresh token they rotated away from, so only a real
 * (copied) old token revokes the session and a forged `<sessionId>.<anything>` does not.
 */
export class SessionPreviousRefreshToken1764000310000 implements MigrationInterface {
  name = 'SessionPreviousRefreshToken1764000310000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = migrationTypes(queryRunner);
    await queryRunner.addColumn(
      'sessions',
      new TableColumn({ name: 'previousRefreshTokenHash', ...t.varchar(64), isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('sessions', 'previousRefreshTokenHash');
  }
}
