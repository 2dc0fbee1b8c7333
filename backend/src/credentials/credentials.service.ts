import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { plainToInstance } from 'class-transformer';
import { Not, Repository } from 'typeorm';
import { AuditEventType } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log.service';
import type { AuthContext } from '../common/auth-context';
import type { RequestOrigin } from '../common/request-origin';
import { SessionsService } from '../auth/sessions.service';
import { ApiError } from '../common/api-error';
import { validateInput, validationFailed } from '../common/validation.pipe';
import type { DataKey } from '../crypto/data-key';
import { Credential, type CredentialType } from './credential.entity';
import { CredentialUsage } from './credential-usage';
import { TargetAddresses } from './target-address';
import {
  CREDENTIAL_TYPE_NAMES,
  CREDENTIAL_TYPES,
  isCredentialType,
  type PublicFields,
} from './credential-types';
import type { CredentialDto } from './dto/credential.dto';
import { isUniqueViolation } from '../common/unique-violation';

/** A credential with its secrets opened, for background jobs only; never sent to a client. */
export interface ResolvedCredential {
  id: string;
  type: CredentialType;
  name: string;
  fields: PublicFields;
  secrets: Record<string, string>;
}

const notFound = () =>
  new ApiError(HttpStatus.NOT_FOUND, 'CREDENTIAL_NOT_FOUND', 'No such credential');
const nameTaken = () =>
  new ApiError(
    HttpStatus.CONFLICT,
    'CREDENTIAL_NAME_TAKEN',
    'You already have a credential with this name',
  );
const inUse = (name: string, users: Record<string, string[]>) => {
  const named = Object.entries(users).map(
    ([kind, names]) => `${kind} ${names.map((user) => `"${user}"`).join(', ')}`,
  );
  return new ApiError(
    HttpStatus.CONFLICT,
    'CREDENTIAL_IN_USE',
    `Credential "${name}" is used by ${named.join(' and ')}; destroy or delete them first`,
    users,
  );
};

@Injectable()
export class CredentialsService {
  constructor(
    @InjectRepository(Credential) private readonly credentials: Repository<Credential>,
    private readonly sessions: SessionsService,
    private readonly audit: AuditLog,
    private readonly usage: CredentialUsage,
    private readonly targets: TargetAddresses,
  ) {}

  async create(auth: AuthContext, body: unknown, origin: RequestOrigin): Promise<CredentialDto> {
    const type = (body as { type?: unknown } | null)?.type;
    if (!isCredentialType(type)) {
      const message = `type must be one of ${CREDENTIAL_TYPE_NAMES.join(', ')}`;
      throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', message, [
        { field: 'type', problems: [message] },
      ]);
    }
    const spec = CREDENTIAL_TYPES[type];
    const input = await validated(spec.input, body);
    const { name, publicFields, newSecrets } = split(type, input);
    await this.assertTargetAllowed(type, publicFields);
    const refined = spec.refine?.({
      fields: publicFields,
      newSecrets,
      hasStoredSecret: () => false,
    }) ?? {
      fields: publicFields,
    };
    await this.assertNameFree(auth.userId, name!);

    const id = randomUUID();
    const dataKey = await this.sessions.dataKey(auth.sessionId);
    const credential = this.credentials.create({
      id,
      userId: auth.userId,
      type,
      name: name!,
      fields: refined.fields,
      secrets: sealAll(dataKey, id, newSecrets),
    });
    await this.insertOrConflict(credential);
    await this.audit.record(auth.userId, AuditEventType.CredentialCreated, origin, {
      credentialId: id,
      name: name!,
    });
    return toDto(await this.findOwned(auth.userId, id));
  }

  async list(userId: string, type?: CredentialType): Promise<CredentialDto[]> {
    const found = await this.credentials.find({
      where: type ? { userId, type } : { userId },
      order: { name: 'ASC' },
    });
    return found.map(toDto);
  }

  async get(userId: string, id: string): Promise<CredentialDto> {
    return toDto(await this.findOwned(userId, id));
  }

  async update(
    auth: AuthContext,
    id: string,
    body: unknown,
    origin: RequestOrigin,
  ): Promise<CredentialDto> {
    const credential = await this.findOwned(auth.userId, id);
    const given = (body as { type?: unknown } | null)?.type;
    if (given !== undefined && given !== credential.type) {
      throw new ApiError(
        HttpStatus.BAD_REQUEST,
        'CREDENTIAL_TYPE_IMMUTABLE',
        'A credential cannot change its type',
      );
    }
    const spec = CREDENTIAL_TYPES[credential.type];
    const input = await validated(spec.update, body);
    const { name, publicFields, newSecrets } = split(credential.type, input);
    // Checked with the stored fields too: a bucket or addressing change moves the host.
    await this.assertTargetAllowed(credential.type, { ...credential.fields, ...publicFields });
    const refined = spec.refine?.({
      fields: { ...credential.fields, ...publicFields },
      newSecrets,
      hasStoredSecret: (field) => field in credential.secrets,
    }) ?? { fields: { ...credential.fields, ...publicFields } };
    if (name !== undefined && name !== credential.name)
      await this.assertNameFree(auth.userId, name, id);

    const secrets = { ...credential.secrets };
    for (const field of refined.dropSecrets ?? []) delete secrets[field];
    if (Object.keys(newSecrets).length > 0) {
      Object.assign(secrets, sealAll(await this.sessions.dataKey(auth.sessionId), id, newSecrets));
    }
    await this.credentials.update(
      { id, userId: auth.userId },
      { name: name ?? credential.name, fields: refined.fields, secrets },
    );
    await this.audit.record(auth.userId, AuditEventType.CredentialUpdated, origin, {
      credentialId: id,
      name: name ?? credential.name,
    });
    return toDto(await this.findOwned(auth.userId, id));
  }

  async delete(auth: AuthContext, id: string, origin: RequestOrigin): Promise<void> {
    const credential = await this.findOwned(auth.userId, id);
    // Deleting it would leave those VMs without the credential their destroy needs.
    const users = await this.usage.usersOf(auth.userId, id);
    if (Object.keys(users).length > 0) throw inUse(credential.name, users);
    await this.credentials.delete({ id, userId: auth.userId });
    await this.audit.record(auth.userId, AuditEventType.CredentialDeleted, origin, {
      credentialId: id,
      name: credential.name,
    });
  }

  /**
   * Opens every secret of a credential with a data key (from a session or a deployment grant),
   * for a job about to connect: so its host is checked again, as a name may resolve elsewhere now.
   */
  async resolve(userId: string, id: string, dataKey: DataKey): Promise<ResolvedCredential> {
    const credential = await this.findOwned(userId, id);
    await this.assertTargetAllowed(credential.type, credential.fields);
    const secrets = Object.fromEntries(
      Object.entries(credential.secrets).map(([field, sealed]) => [
        field,
        dataKey.openField(id, field, sealed),
      ]),
    );
    return { id, type: credential.type, name: credential.name, fields: credential.fields, secrets };
  }

  private async assertTargetAllowed(type: CredentialType, fields: PublicFields): Promise<void> {
    const target = CREDENTIAL_TYPES[type].targetAddress;
    const value = target && fields[target.field];
    if (target && value !== undefined) {
      await this.targets.assertAllowed(
        target.field,
        target.code,
        target.host(String(value), fields),
      );
    }
  }

  private async findOwned(userId: string, id: string): Promise<Credential> {
    const credential = await this.credentials.findOneBy({ id, userId });
    if (!credential) throw notFound();
    return credential;
  }

  private async assertNameFree(userId: string, name: string, exceptId?: string): Promise<void> {
    const clash = await this.credentials.findOneBy({
      userId,
      name,
      ...(exceptId ? { id: Not(exceptId) } : {}),
    });
    if (clash) throw nameTaken();
  }

  private async insertOrConflict(credential: Credential): Promise<void> {
    try {
      await this.credentials.insert(credential);
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
  }
}

async function validated(cls: new () => object, body: unknown): Promise<Record<string, unknown>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Body must be a JSON object');
  }
  const instance = plainToInstance(cls, body);
  const errors = await validateInput(instance);
  if (errors.length > 0) throw validationFailed(errors);
  return instance as Record<string, unknown>;
}

function split(type: CredentialType, input: Record<string, unknown>) {
  const secretFields = CREDENTIAL_TYPES[type].secretFields;
  const publicFields: PublicFields = {};
  const newSecrets: Record<string, string> = {};
  for (const [field, value] of Object.entries(input)) {
    if (field === 'type' || field === 'name' || value === undefined) continue;
    if (secretFields.includes(field)) newSecrets[field] = String(value);
    else publicFields[field] = value as string | number | boolean;
  }
  return { name: input.name as string | undefined, publicFields, newSecrets };
}

function sealAll(
  dataKey: DataKey,
  id: string,
  plain: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(plain).map(([field, value]) => [field, dataKey.sealField(id, field, value)]),
  );
}

function toDto(credential: Credential): CredentialDto {
  return {
    ...credential.fields,
    id: credential.id,
    type: credential.type,
    name: credential.name,
    storedSecrets: Object.keys(credential.secrets).sort(),
    createdAt: credential.createdAt,
    updatedAt: credential.updatedAt,
  };
}
