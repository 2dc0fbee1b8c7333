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
