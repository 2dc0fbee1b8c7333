import { describe, expect, it } from 'vitest';
import { readScriptTemplate } from '@fieldstation/platform-stack';
import { ApiError, type ApiErrorBody } from '../common/api-error';
import { assertValidScript, findScriptProblem } from './processor-script';

describe('the processing script check, before anything is queued', () => {
  it('accepts the template and every way of exporting process', () => {
    expect(findScriptProblem(readScriptTemplate())).toBeNull();
    for (const source of [
      'export function process(reading) { return reading; }',
      'export async function process(reading, ctx) { await ctx; return reading; }',
      'export const process = (reading) => reading;',
      'const handle = (r) => r;\nexport { handle as process };',
      'export default function (reading) { return reading; }',
      'import ms from "ms";\nexport default (reading) => ({ ...reading, data: { t: ms("1s") } });',
    ]) {
      expect(findScriptProblem(source), source).toBeNull();
    }
  });

  it('names the line and column of a syntax error (the typo that used to stop ingestion)', () => {
    const source = 'export function process(reading) {\n  const oops = ;\n  return reading;\n}\n';
    expect(findScriptProblem(source)).toEqual({
      message: 'Unexpected token',
      line: 2,
      column: 16,
    });
    const error = (() => {
      try {
        assertValidScript(source);
      } catch (caught) {
        return caught as ApiError;
      }
      throw new Error('no error');
    })();
    expect(error.getStatus()).toBe(400);
    expect((error.getResponse() as ApiErrorBody).error).toEqual({
      code: 'INVALID_SCRIPT',
      message: 'The script has an error at line 2, column 16: Unexpected token.',
      details: { message: 'Unexpected token', line: 2, column: 16 },
    });
  });

  it('refuses a script without a process function, and CommonJS the processor cannot load', () => {
    expect(findScriptProblem('export const handle = (r) => r;')?.message).toMatch(
      /does not export a function "process"/,
    );
    expect(findScriptProblem('module.exports = { process: (r) => r };')?.message).toMatch(
      /does not export/,
    );
  });

  it('never runs the script while checking it', () => {
    const marker = `checked-${Date.now()}`;
    const source = `globalThis[${JSON.stringify(marker)}] = true;\nexport function process(r) { return r; }`;
    expect(findScriptProblem(source)).toBeNull();
    expect((globalThis as Record<string, unknown>)[marker]).toBeUndefined();
    expect(() => assertValidScript(undefined)).not.toThrow();
  });
});
