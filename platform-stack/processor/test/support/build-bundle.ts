import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Vitest global setup: builds dist/ once so tests run the same bundle the image ships. */
export default function buildBundle(): void {
  execFileSync(process.execPath, ['build.mjs'], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: 'inherit',
  });
}
