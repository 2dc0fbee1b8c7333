import { HttpStatus } from '@nestjs/common';
import { parse, type Node } from 'acorn';
import { ApiError } from '../common/api-error';

/** Where a script is wrong, in the editor's terms (1-based line and column). */
export interface ScriptProblem {
  message: string;
  line: number;
  column: number;
}

interface AcornSyntaxError extends SyntaxError {
  loc?: { line: number; column: number };
}

type ExportNode = Node & {
  declaration?: (Node & { id?: { name: string } | null; declarations?: { id: Node }[] }) | null;
  specifiers?: { exported: Node & { name?: string; value?: string } }[];
};

/** Whether the module exports what the processor calls: `process`, or a default export. */
function exportsProcess(body: Node[]): boolean {
  return body.some((node) => {
    if (node.type === 'ExportDefaultDeclaration') return true;
    if (node.type !== 'ExportNamedDeclaration') return false;
    const { declaration, specifiers = [] } = node as ExportNode;
    if (declaration?.id?.name === 'process') return true;
    if (
      declaration?.declarations?.some(
        ({ id }) => id.type === 'Identifier' && (id as Node & { name: string }).name === 'process',
      )
    )
      return true;
    return specifiers.some(({ exported }) =>
      ['process', 'default'].includes(exported.name ?? exported.value ?? ''),
    );
  });
}

/**
 * Parses the user's processing script as the processor loads it (an ES module, current
 * ECMAScript) without running any of it, so a typo is refused before anything is queued
 * instead of stopping ingestion on the host. Null when the script is fine.
 */
export function findScriptProblem(source: string): ScriptProblem | null {
  let program: { body: Node[] };
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  } catch (caught) {
    const error = caught as AcornSyntaxError;
    if (!(error instanceof SyntaxError) || !error.loc) throw caught;
    // Acorn appends "(line:column)" to its message; the position is reported on its own.
    const message = error.message.replace(/\s*\(\d+:\d+\)$/, '');
    return { message, line: error.loc.line, column: error.loc.column + 1 };
  }
  if (!exportsProcess(program.body)) {
    return {
      message: 'The script does not export a function "process" (or a default export)',
      line: 1,
      column: 1,
    };
  }
  return null;
}

/** 400 INVALID_SCRIPT naming the line and column, for the editor to mark. */
export function assertValidScript(source: string | undefined): void {
  if (source === undefined) return;
  const problem = findScriptProblem(source);
  if (!problem) return;
  throw new ApiError(
    HttpStatus.BAD_REQUEST,
    'INVALID_SCRIPT',
    `The script has an error at line ${problem.line}, column ${problem.column}: ${problem.message}.`,
    problem,
  );
}
