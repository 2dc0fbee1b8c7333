import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DataKey } from '../crypto/data-key';
import { generateSshKeyPair } from './ssh-key-pair';
import { User } from './user.entity';
import { UserKeys } from './user-keys';

/** Owns the users table: accounts, their password hash, key envelope and SSH key pair. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly keys: UserKeys,
  ) {}

  normalizeEmail(email: string): string {
    return email.trim().toLowerCase();
  }

  findByEmail(email: string): Promise<User | null> {
    return this.users.findOneBy({ email: this.normalizeEmail(email) });
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  /** Creates the account with a fresh data key and SSH key pair; returns the unwrapped key too. */
  async create(input: { email: string; username: string; password: string }) {
    const id = randomUUID();
    const dataKey = DataKey.generate();
    const ssh = generateSshKeyPair(`fieldstation-${input.username}`);
    const sealed = await this.keys.seal({ id }, dataKey, input.password, 1);
    const user = this.users.create({
      id,
      email: this.normalizeEmail(input.email),
      username: input.username,
      ...sealed,
      sshPublicKey: ssh.publicKey,
      sshPrivateKey: dataKey.sealField(id, 'sshPrivateKey', ssh.privateKey),
    });
    await this.users.insert(user);
    return { user, dataKey };
  }

  /**
   * Checks the password and unwraps the data key with it; undefined when it is wrong. A record of
   * the legacy two-derivation scheme is re-written in the current one on the way (same data key,
   * so every sealed secret stays readable); later checks cost one derivation.
   */
  async unlock(user: User, password: string): Promise<DataKey | undefined> {
    const opened = await this.keys.open(user, password);
    if (!opened) return undefined;
    if (opened.legacy) await this.upgrade(user, opened.dataKey, password);
    return opened.dataKey;
  }

  private async upgrade(user: User, dataKey: DataKey, password: string): Promise<void> {
    const sealed = await this.keys.seal(user, dataKey, password, user.keyVersion + 1);
    // Only over the record just checked: a password changed meanwhile must not be undone.
    const result = await this.users.update(
      { id: user.id, passwordHash: user.passwordHash },
      sealed,
    );
    if (result.affected) Object.assign(user, sealed);
  }

  /** A new password re-wraps the same data key: every sealed secret stays readable. */
  async changePassword(user: User, dataKey: DataKey, newPassword: string): Promise<void> {
    const sealed = await this.keys.seal(user, dataKey, newPassword, user.keyVersion + 1);
    await this.users.update({ id: user.id }, sealed);
  }

  sshPrivateKey(user: User, dataKey: DataKey): string {
    return dataKey.openField(user.id, 'sshPrivateKey', user.sshPrivateKey);
  }

  async delete(id: string): Promise<void> {
    await this.users.delete({ id });
  }
}
