import { execFileSync } from 'node:child_process';
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
  });
});
