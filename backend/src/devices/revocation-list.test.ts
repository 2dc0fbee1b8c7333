import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  certificateSerialNumber,
  issueDeviceCertificate,
  renderStack,
  revocationListStackPath,
} from '@fieldstation/platform-stack';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/test-env';
import type { AppConfig } from '../config/app-config';
import type { CredentialsService } from '../credentials/credentials.service';
import { DataKey } from '../crypto/data-key';
import { dataSourceOptions } from '../database/data-source-options';
import { ENTITIES } from '../entities';
import { PlatformAccess } from '../platforms/platform-access';
import { PlatformDevices } from '../platforms/platform-devices';
import { generatePlatformSecrets, sealSecrets } from '../platforms/platform-secrets';
import { PlatformRecords } from '../platforms/platform-records';
import { Platform } from '../platforms/platform.entity';
import type { UsersService } from '../users/users.service';
import { RevokedDeviceCertificate } from './revoked-certificate.entity';
import { RevokedCertificates } from './revoked-certificates';

const run = promisify(execFile);
const as = <T>(value: unknown) => value as T;

/**
 * The revoked-certificate store (SQLite, real migrations) and the revocation list a TLS platform's
 * stack gets from it (PlatformKeyring.stackSpec → renderStack), checked with the openssl command
 * line: the listed certificates fail `verify -crl_check`, the current one passes, and a platform
 * with nothing revoked still gets a (empty) list, which the broker's `crl_check` needs.
 */
describe('revoked device certificates and the revocation list', () => {
  const dataKey = DataKey.generate();
  const dir = tempDir();
  let dataSource: DataSource;
  let store: RevokedCertificates;
  let access: PlatformAccess;
  let platform: Platform;
  let other: Platform;

  const platformRow = (name: string): Platform =>
    as<Platform>({
      id: randomUUID(),
      userId: '',
      name,
      activeName: null,
      target: 'ssh-host',
      credentialId: randomUUID(),
      spaceId: null,
      database: 'postgres',
      dataVolumeGb: 20,
      tls: true,
      ports: { mqtt: null, mqtts: 8883, amqp: null, amqps: 5671, rabbitmqManagement: 15672 },
      options: {},
      status: 'running',
      address: '203.0.113.7',
      deviceUsers: [],
      secrets: {},
      caCertificatePem: null,
      processorScript: 'export default (reading) => reading;',
      processorPackages: {},
      grafanaPasswordRevealed: false,
      removeDataOnDestroy: false,
    });

  beforeAll(async () => {
    dataSource = new DataSource(
      dataSourceOptions({ type: 'sqlite', path: join(dir, 'fieldstation.sqlite') }, ENTITIES),
    );
    await dataSource.initialize();
    store = new RevokedCertificates(dataSource.getRepository(RevokedDeviceCertificate));
    const devices = new PlatformDevices();
    devices.register({
      enrollAtLaunch: async () => undefined,
      activeDeviceUsers: async () => [],
      activeDeviceLogins: async () => [],
      revokedCertificates: (of) => store.listed(of.id),
    });
    access = new PlatformAccess(
      as<CredentialsService>({}),
      as<UsersService>({}),
      devices,
      as<AppConfig>({ stackImages: {} }),
    );
    const userId = randomUUID();
    await dataSource
      .createQueryBuilder()
      .insert()
      .into('users')
      .values({
        id: userId,
        email: 'owner@example.org',
        username: 'owner',
        passwordHash: 'unused',
        keySalt: 'unused',
        wrappedDataKey: 'unused',
        keyVersion: 1,
        sshPublicKey: 'unused',
        sshPrivateKey: 'unused',
      })
      .execute();
    const keyring = access.open(dataKey);
    [platform, other] = [platformRow('plant'), platformRow('other')];
    for (const row of [platform, other]) {
      row.userId = userId;
      row.secrets = sealSecrets(dataKey, row.id, generatePlatformSecrets());
      Object.assign(row, await keyring.issueTls(row));
      await dataSource.getRepository(Platform).insert(row);
    }
  });

  afterAll(async () => dataSource?.destroy());

  it('stores a CA only while the platform still has the one expected (launch vs copy-from)', async () => {
    const records = new PlatformRecords(dataSource.getRepository(Platform));
    const fresh = { ...platformRow('fresh'), userId: platform.userId };
    await dataSource.getRepository(Platform).insert(fresh);
    const [first, second] = [platform.caCertificatePem!, other.caCertificatePem!];
    expect(
      await records.saveIfCertificateAuthority(fresh.id, null, { caCertificatePem: first }),
    ).toBe(true);
    // The other writer read "no CA yet" too: it loses, the first CA stays.
    expect(
      await records.saveIfCertificateAuthority(fresh.id, null, { caCertificatePem: second }),
    ).toBe(false);
    expect((await records.getById(fresh.id)).caCertificatePem).toBe(first);
    expect(
      await records.saveIfCertificateAuthority(fresh.id, first, { caCertificatePem: first }),
    ).toBe(true);
  });

  /** The platform's revocation list as its stack renders it. */
  async function renderedList(of: Platform): Promise<string> {
    const spec = await access.open(dataKey).stackSpec(of);
    const path = revocationListStackPath(of.caCertificatePem!);
    const file = renderStack(spec).files.find((candidate) => candidate.path === path);
    expect(file, `${path} rendered`).toBeDefined();
    return file!.content;
  }

  /** openssl's verdict on `certificatePem` against the CA and `list`. */
  async function verified(of: Platform, list: string, certificatePem: string): Promise<boolean> {
    const name = randomUUID();
    const [ca, crl, certificate] = ['ca.pem', 'crl.pem', 'cert.pem'].map((file) =>
      join(dir, `${name}-${file}`),
    );
    writeFileSync(ca!, of.caCertificatePem!);
    writeFileSync(crl!, list);
    writeFileSync(certificate!, certificatePem);
    return run('openssl', ['verify', '-crl_check', '-CAfile', ca!, '-CRLfile', crl!, certificate!])
      .then(() => true)
      .catch(() => false);
  }

  /** `openssl crl -text` of a list (given on stdin by a fixed script; the PEM is an argument). */
  async function crlText(list: string): Promise<string> {
    const script = 'printf "%s" "$1" | openssl crl -noout -text';
    return (await run('sh', ['-c', script, 'sh', list])).stdout;
  }

  const authority = (of: Platform) => ({
    certificatePem: of.caCertificatePem!,
    privateKeyPem: access.open(dataKey).secrets(of).required('tlsCaPrivateKey'),
  });

  it('renders an empty, CA-signed list for a TLS platform with nothing revoked', async () => {
    const list = await renderedList(platform);
    const current = await issueDeviceCertificate(authority(platform), 'pi-1');
    expect(await verified(platform, list, current.certificatePem)).toBe(true);
    expect(await crlText(list)).toContain('No Revoked Certificates');
    expect(await store.listed(platform.id)).toEqual([]);
  });

  it('lists renewed-away and revoked certificates per platform until they expire; remove takes one back', async () => {
    const ca = authority(platform);
    const [renewedAway, revoked, current] = await Promise.all([
      issueDeviceCertificate(ca, 'pi-1'),
      issueDeviceCertificate(ca, 'pi-2'),
      issueDeviceCertificate(ca, 'pi-1'),
    ]);
    const renewedSerial = await store.add(
      platform.id,
      'pi-1',
      renewedAway.certificatePem,
      'renewed',
      new Date(Date.now() - 60_000),
    );
    const revokedSerial = await store.add(platform.id, 'pi-2', revoked.certificatePem, 'revoked');
    // Recording the same certificate twice keeps one entry.
    await store.add(platform.id, 'pi-2', revoked.certificatePem, 'revoked');
    expect(renewedSerial).toBe(certificateSerialNumber(renewedAway.certificatePem));

    expect((await store.listed(platform.id)).map((entry) => entry.serialNumber)).toEqual([
      renewedSerial,
      revokedSerial,
    ]);
    expect(await store.listed(other.id)).toEqual([]);
    // Past their expiry (365 days) the broker refuses them anyway: the list leaves them out.
    expect(await store.listed(platform.id, new Date(Date.now() + 366 * 86_400_000))).toEqual([]);

    const list = await renderedList(platform);
    expect((await crlText(list)).replace(/\s/g, '').toUpperCase()).toContain(
      `SerialNumber:${renewedSerial}`.toUpperCase(),
    );
    expect(await verified(platform, list, renewedAway.certificatePem)).toBe(false);
    expect(await verified(platform, list, revoked.certificatePem)).toBe(false);
    expect(await verified(platform, list, current.certificatePem)).toBe(true);
    // Another platform's list names none of them.
    expect(await crlText(await renderedList(other))).toContain('No Revoked Certificates');

    await store.remove(platform.id, revokedSerial);
    const after = await renderedList(platform);
    expect(await verified(platform, after, revoked.certificatePem)).toBe(true);
    expect(await verified(platform, after, renewedAway.certificatePem)).toBe(false);
  });

  it('copies unexpired revocations to a platform that shares the CA, once', async () => {
    const ca = authority(platform);
    const certificate = await issueDeviceCertificate(ca, 'pi-3');
    const serial = await store.add(platform.id, 'pi-3', certificate.certificatePem, 'revoked');
    const listedBefore = (await store.listed(platform.id)).map((entry) => entry.serialNumber);
    expect((await store.copy(platform.id, other.id)).sort()).toEqual([...listedBefore].sort());
    expect(await store.copy(platform.id, other.id)).toEqual([]);
    expect((await store.listed(other.id)).map((entry) => entry.serialNumber)).toEqual(listedBefore);
    expect(listedBefore).toContain(serial);
    await store.remove(other.id, ...listedBefore);
    expect(await store.listed(other.id)).toEqual([]);
    expect((await store.listed(platform.id)).map((entry) => entry.serialNumber)).toEqual(
      listedBefore,
    );
  });

  it('drops the entries with their platform', async () => {
    const gone = platformRow('gone');
    gone.userId = platform.userId;
    gone.secrets = sealSecrets(dataKey, gone.id, generatePlatformSecrets());
    Object.assign(gone, await access.open(dataKey).issueTls(gone));
    await dataSource.getRepository(Platform).insert(gone);
    const certificate = await issueDeviceCertificate(authority(gone), 'pi-1');
    await store.add(gone.id, 'pi-1', certificate.certificatePem, 'revoked');
    await dataSource.getRepository(Platform).delete({ id: gone.id });
    expect(
      await dataSource.getRepository(RevokedDeviceCertificate).countBy({ platformId: gone.id }),
    ).toBe(0);
  });
});
