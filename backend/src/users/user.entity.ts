import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity('users')
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  /** Stored lower-cased, so uniqueness is case-insensitive on both engines. */
  @Column({ type: 'varchar', length: 254, unique: true })
  email!: string;

  @Column({ type: 'varchar', length: 64 })
  username!: string;

  @Column({ type: 'text' })
  passwordHash!: string;

  /** Salt of the password-derived key that wraps the data key (not the password hash's salt). */
  @Column({ type: 'text' })
  keySalt!: string;

  /** The data key sealed under the password-derived key; AAD = user id + key version. */
  @Column({ type: 'text' })
  wrappedDataKey!: string;

  @Column({ type: 'integer' })
  keyVersion!: number;

  @Column({ type: 'text' })
  sshPublicKey!: string;

  /** OpenSSH private key sealed under the data key. */
  @Column({ type: 'text' })
  sshPrivateKey!: string;

  @CreateDateColumn()
  createdAt!: Date;

  @UpdateDateColumn()
  updatedAt!: Date;
}
