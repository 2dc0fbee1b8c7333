import { readFileSync } from 'node:fs';

/** The user-script template users download and edit (also the default script of a new platform). */
export function readScriptTemplate(): string {
  return readFileSync(require.resolve('@fieldstation/processor/template/process.js'), 'utf8');
}
