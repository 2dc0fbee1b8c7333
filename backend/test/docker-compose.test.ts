import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

describe('docker-compose.yml for running Fieldstation itself', () => {
  it('is accepted by docker-compose and wires the app to its Redis', () => {
    const rendered = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH },
      encoding: 'utf8',
    });
    expect(rendered).toContain('REDIS_URL: redis://redis:6379');
    expect(rendered).toMatch(/condition: service_healthy/);
    expect(rendered).toMatch(/maxmemory-policy/);
    // Nothing puts the app back on root; its data volume is the one the image prepares.
    expect(rendered).not.toMatch(/^\s*user:/m);
    expect(rendered).toMatch(/fieldstation-data:\/data|source: fieldstation-data\s+target: \/data/);
  });
});

describe('docker-compose.multi.yml for Fieldstation on several processes', () => {
  const settings = {
    FIELDSTATION_SECRET: 'multi-secret-0123456789abcdef0123456789',
    POSTGRES_PASSWORD: 'multi-db-password',
    FILE_STORE_S3_ENDPOINT: 'https://s3.example.net',
    FILE_STORE_S3_BUCKET: 'fs-files',
    FILE_STORE_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    FILE_STORE_S3_SECRET_ACCESS_KEY: 'multi-s3-secret',
  };
  const render = (env: Record<string, string>) =>
    execFileSync('docker-compose', ['-f', 'docker-compose.multi.yml', 'config'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  /** One service's block of the rendered file (docker-compose 1.29 prints YAML only). */
  const service = (rendered: string, name: string) =>
    new RegExp(`^  ${name}:\\n((?:    .*\\n|  - .*\\n)*)`, 'm').exec(rendered)?.[1] ?? '';
  const setting = (block: string, name: string) =>
    new RegExp(`^      ${name}: (.*)$`, 'm').exec(block)?.[1];

  it('runs one API and two workers on the same database, Redis, secret and file store', () => {
    const rendered = render(settings);
    const processes = ['api', 'worker-1', 'worker-2'].map((name) => service(rendered, name));
    expect(processes.map((block) => /- --role\n\s+- (\w+)/.exec(block)?.[1])).toEqual([
      'api',
      'worker',
      'worker',
    ]);
    const shared = [
      'DATABASE_URL',
      'REDIS_URL',
      'FIELDSTATION_SECRET',
      'FILE_STORE',
      'FILE_STORE_S3_BUCKET',
      'FILE_STORE_S3_SECRET_ACCESS_KEY',
    ];
    for (const name of shared) {
      const values = processes.map((block) => setting(block, name));
      expect(values[0], name).toBeDefined();
      expect(new Set(values).size, name).toBe(1);
    }
    expect(setting(processes[0]!, 'DATABASE_URL')).toBe(
      'postgres://fieldstation:multi-db-password@postgres:5432/fieldstation',
    );
    expect(setting(processes[0]!, 'FILE_STORE')).toBe('s3');
    // No disk is shared: each process has a data volume of its own.
    const volumes = processes.map((block) => /- (\S+):\/data:rw/.exec(block)?.[1]);
    expect(volumes).toEqual(['api-data', 'worker-1-data', 'worker-2-data']);
  });

  it('refuses to render without the settings every process must share', () => {
    const { FIELDSTATION_SECRET: _secret, ...withoutSecret } = settings;
    expect(() => render(withoutSecret)).toThrow(/FIELDSTATION_SECRET/);
  });
});

describe('the Fieldstation image (Dockerfile)', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  // The image that runs is the last stage.
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const lines = final.split('\n').map((line) => line.trim());

  it('runs as an unprivileged user that owns the data directory', () => {
    const users = lines.filter((line) => line.startsWith('USER '));
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.slice('USER '.length).trim();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const uid = user.split(':')[0]!;
    expect(uid).toMatch(/^[1-9]\d*$/);

    const owned = lines.findIndex((line) => new RegExp(`chown (-R )?${user} /data\\b`).test(line));
    expect(owned, 'a RUN that gives /data to the user').toBeGreaterThan(-1);
    const switched = lines.lastIndexOf(users.at(-1)!);
    expect(switched).toBeGreaterThan(owned);
    expect(lines.indexOf('VOLUME /data')).toBeGreaterThan(owned);
  });
});
