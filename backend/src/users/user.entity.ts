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

  /**
   * `scrypt-hkdf$…`: one scrypt derivation gives both the verifier stored here and the key that
   * wraps the data key. `scrypt$…`: the legacy scheme, re-written at the owner's next login.
   */
  @Column({ type: 'text' })
  passwordHash!: string;

  /** Legacy scheme only: salt of its second derivation, the key that wraps the data key. Else ''. */
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
