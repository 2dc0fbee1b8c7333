import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { DataKey } from '../crypto/data-key';
import { PasswordHasher } from '../crypto/password-hasher';
import { generateSshKeyPair } from './ssh-key-pair';
import { User } from './user.entity';
import { UserKeys } from './user-keys';

/** Owns the users table: accounts, their password hash, key envelope and SSH key pair. */
@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly hasher: PasswordHasher,
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
    const [passwordHash, envelope] = await Promise.all([
      this.hasher.hash(input.password),
      this.keys.wrap({ id }, dataKey, input.password, 1),
    ]);
    const user = this.users.create({
      id,
      email: this.normalizeEmail(input.email),
      username: input.username,
      passwordHash,
      ...envelope,
      sshPublicKey: ssh.publicKey,
      sshPrivateKey: dataKey.sealField(id, 'sshPrivateKey', ssh.privateKey),
    });
    await this.users.insert(user);
    return { user, dataKey };
  }

  /** Checks the password and unwraps the data key with it; undefined when it is wrong. */
  async unlock(user: User, password: string): Promise<DataKey | undefined> {
    if (!(await this.hasher.verify(password, user.passwordHash))) return undefined;
    return this.keys.unwrap(user, password);
  }

  /** A new password re-wraps the same data key: every sealed secret stays readable. */
  async changePassword(user: User, dataKey: DataKey, newPassword: string): Promise<void> {
    const [passwordHash, envelope] = await Promise.all([
      this.hasher.hash(newPassword),
      this.keys.wrap(user, dataKey, newPassword, user.keyVersion + 1),
    ]);
    await this.users.update({ id: user.id }, { passwordHash, ...envelope });
  }

  sshPrivateKey(user: User, dataKey: DataKey): string {
    return dataKey.openField(user.id, 'sshPrivateKey', user.sshPrivateKey);
  }

  async delete(id: string): Promise<void> {
    await this.users.delete({ id });
  }
}
