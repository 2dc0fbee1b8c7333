import { describe, expect, it } from 'vitest';
import { DataKey } from '../crypto/data-key';
import { generatePlatformSecrets, PlatformSecrets, sealSecrets } from './platform-secrets';

describe('PlatformSecrets.stack', () => {
  const dataKey = DataKey.generate();
  const platformWith = (plain: Record<string, string>) => ({
    id: 'platform-1',
    secrets: sealSecrets(dataKey, 'platform-1', plain),
  });

  it('opens the generated database role passwords of a new platform', () => {
    const plain = generatePlatformSecrets();
    const stack = new PlatformSecrets(platformWith(plain), dataKey).stack();
    expect(stack.processorDatabasePassword).toBe(plain.processorDatabasePassword);
    expect(stack.grafanaDatabasePassword).toBe(plain.grafanaDatabasePassword);
    expect(new Set(Object.values(stack)).size).toBe(6);
  });

  it('derives stable, distinct role passwords for a platform created before the roles existed', () => {
    const { processorDatabasePassword, grafanaDatabasePassword, ...older } =
      generatePlatformSecrets();
    expect(processorDatabasePassword).toBeDefined();
    expect(grafanaDatabasePassword).toBeDefined();
    const first = new PlatformSecrets(platformWith(older), dataKey).stack();
    const again = new PlatformSecrets(platformWith(older), dataKey).stack();
    expect(again).toEqual(first);
    expect(first.processorDatabasePassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.grafanaDatabasePassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(Object.values(first)).size).toBe(6);
  });
});
