import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { App } from 'cdktf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldstationStack } from './core/fieldstation-stack';
import { PLATFORM_ID_LABEL } from './core/labels';
import { PLATFORM_OUTPUTS, readOutputs } from './core/outputs';
import { providerEnvironment } from './provider-environment';
import { sampleRequest } from './samples';
import { StackSynthesizer, stackWorkDir, type StackRequest } from './stack-synthesizer';
import { FAKE_AWS_ACCESS_KEY_ID_2, fakePemPrivateKey } from '../../test/fixtures/fake-credentials';

// Distinctive fake credentials: if any of them shows up in a synthesized file, it leaked.
const FAKE_SECRETS = {
  aws: providerEnvironment({
    type: 'aws',
    accessKeyId: FAKE_AWS_ACCESS_KEY_ID_2,
    secretAccessKey: 'fs-fake-aws-secret-Zq8wXv1Lm2Nb3',
  }),
  gcp: providerEnvironment({
    type: 'gcp',
    serviceAccountJson: JSON.stringify({
      type: 'service_account',
      private_key_id: 'fsfakekeyid0123456789',
      private_key: fakePemPrivateKey('FSFAKEPRIVATEKEYMATERIAL'),
      client_email: 'fs-fake@fieldstation-demo.iam.gserviceaccount.com',
    }),
  }),
  openstack: providerEnvironment({
    type: 'openstack',
    authUrl: 'https://keystone.fs-fake.invalid:5000/v3',
    username: 'fs-fake-os-user',
    password: 'fs-fake-os-password-Kp9Qr',
    projectName: 'fs-fake-project',
    domain: 'Default',
  }),
  pg: { PG_CONN_STR: 'postgres://fsstate:fs-fake-pg-password-77@127.0.0.1/fsstate' },
};
const SECRET_VALUES = [
  FAKE_AWS_ACCESS_KEY_ID_2,
  'fs-fake-aws-secret-Zq8wXv1Lm2Nb3',
  'fsfakekeyid0123456789',
  'FSFAKEPRIVATEKEYMATERIAL',
  'fs-fake-os-password-Kp9Qr',
  'fs-fake-pg-password-77',
];

const ALL: StackRequest[] = [
  sampleRequest('aws', 'space'),
  sampleRequest('aws', 'platform'),
  sampleRequest('gcp', 'platform'),
  sampleRequest('openstack', 'space'),
  sampleRequest('openstack', 'platform'),
];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-synthesizer-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('StackSynthesizer', () => {
  it('never writes a credential into any synthesized file, even with credentials in the environment', async () => {
    const credentialEnv = Object.assign({}, ...Object.values(FAKE_SECRETS)) as Record<
      string,
      string
    >;
    // Sanity: the fake values really are what the providers would be given.
    for (const secret of SECRET_VALUES) expect(JSON.stringify(credentialEnv)).toContain(secret);
    const saved = { ...process.env };
    Object.assign(process.env, credentialEnv);
    try {
      for (const backend of ['local', 'pg'] as const) {
        const synthesizer = new StackSynthesizer({ stateBackend: backend });
        for (const request of ALL) {
          await synthesizer.synthesize(
            request,
            join(root, 'scan', backend, `${request.target}-${request.kind}`),
          );
        }
      }
    } finally {
      process.env = saved;
    }
    const files = await filesUnder(join(root, 'scan'));
    expect(files).toHaveLength(ALL.length * 2);
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const secret of SECRET_VALUES)
        expect(text, `${file} contains a credential`).not.toContain(secret);
    }
  });

  it('writes only cdk.tf.json into the working dir and keeps state beside it', async () => {
    const workDir = join(root, 'layout');
    const { configFile } = await new StackSynthesizer().synthesize(
      sampleRequest('aws', 'platform'),
      workDir,
    );
    expect(configFile).toBe(join(workDir, 'cdk.tf.json'));
    expect(await readdir(workDir)).toEqual(['cdk.tf.json']);
    const json = JSON.parse(await readFile(configFile, 'utf8')) as {
      terraform: { backend: unknown };
    };
    expect(json.terraform.backend).toEqual({ local: { path: 'terraform.tfstate' } });

    // Re-synthesizing (retry, update) replaces the file in place and clears scratch dirs a
    // killed process left behind.
    await mkdir(join(workDir, '.synth-left-by-a-crash', 'stacks'), { recursive: true });
    await new StackSynthesizer().synthesize(sampleRequest('aws', 'platform'), workDir);
    expect(await readdir(workDir)).toEqual(['cdk.tf.json']);
  });

  it('uses a PostgreSQL schema per stack when configured, without a connection string', async () => {
    const workDir = join(root, 'pg');
    const { configFile } = await new StackSynthesizer({ stateBackend: 'pg' }).synthesize(
      sampleRequest('gcp', 'platform'),
      workDir,
    );
    const json = JSON.parse(await readFile(configFile, 'utf8')) as {
      terraform: { backend: unknown };
    };
    expect(json.terraform.backend).toEqual({
      pg: { schema_name: 'fieldstation_platform_0b9f4c1a_2222_4d3e_8f7a_1b2c3d4e5f60' },
    });
  });

  it('places working dirs under <dataDir>/stacks/<userId>/<kind>/<id> and refuses path tricks', () => {
    expect(stackWorkDir('/data', 'u1', 'platform', 'p1')).toBe('/data/stacks/u1/platform/p1');
    expect(() => stackWorkDir('/data', '../etc', 'platform', 'p1')).toThrow();
    expect(() => stackWorkDir('/data', 'u1', 'space', 'a/b')).toThrow();
    expect(() => stackWorkDir('/data', 'u1', 'space', 'trailing-')).toThrow();
  });
});

describe('labelling policy', () => {
  class UntaggedStack extends FieldstationStack {
    constructor(app: App) {
      super(app, 'untagged', {
        backend: { type: 'local' },
        labelKey: PLATFORM_ID_LABEL,
        ownerId: 'p1',
      });
      new AwsProvider(this, 'aws', { region: 'eu-west-1' });
      new Eip(this, 'ip', { domain: 'vpc', tags: { [PLATFORM_ID_LABEL]: 'someone-else' } });
    }
  }

  it('fails synthesis when a taggable resource lacks the owner label', async () => {
    const app = new App({ outdir: await mkdtemp(join(root, 'aspect-')) });
    new UntaggedStack(app);
    expect(() => app.synth()).toThrow(/aws_eip\.ip lacks the label fieldstation-platform-id=p1/);
  });
});

describe('readOutputs', () => {
  it('maps runner outputs to typed fields and fails on a missing one', () => {
    const raw = {
      public_ip: { value: '203.0.113.10', sensitive: false, type: 'string' },
      instance_id: { value: 'i-1', sensitive: false, type: 'string' },
      ssh_user: { value: 'fieldstation', sensitive: false, type: 'string' },
      data_volume_id: { value: 'vol-1', sensitive: false, type: 'string' },
    };
    expect(readOutputs(raw, PLATFORM_OUTPUTS)).toEqual({
      publicIp: '203.0.113.10',
      instanceId: 'i-1',
      sshUser: 'fieldstation',
      dataVolumeId: 'vol-1',
    });
    const { public_ip: _dropped, ...partial } = raw;
    expect(() => readOutputs(partial, PLATFORM_OUTPUTS)).toThrow(
      'Stack output public_ip is missing',
    );
  });
});
