import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The folders of backend/src from the bottom layer up. A folder may import its own layer and the
 * layers below; an import into a higher layer "runs upward". The composition root (app.module.ts,
 * main.ts, entities.ts — shown as `(root)`) sits on top; openapi/ just below it, since the app
 * serves the document it builds (only its build script, write-openapi.ts, imports the root).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['common'],
  ['config'],
  ['crypto', 'redis', 'database', 'files', 'jobs', 'infra', 'provision', 'install-backup'],
  ['users'],
  ['audit'],
  ['auth'],
  ['grants', 'credentials', 'health'],
  ['deployments'],
  ['spaces'],
  ['platforms'],
  ['devices', 'backups', 'script-debugging'],
  ['metrics'],
  ['notifications'],
  ['alerts'],
  ['openapi'],
  ['(root)'],
];

/**
 * Folder cycles that are allowed: the OpenAPI build script (openapi/write-openapi.ts) boots the
 * whole app to print its document, and the app serves that document (app.factory.ts).
 */
export const ALLOWED_CYCLES: readonly string[] = ['(root) openapi'];

export const ROOT = '(root)';

export interface ImportEdge {
  from: string;
  to: string;
  /** `file -> specifier` for every import statement along this folder edge. */
  imports: string[];
}

export interface ImportGraph {
  edges: ImportEdge[];
  /** Folder pairs that import each other, e.g. `audit auth`. */
  mutualPairs: string[];
  /** Strongly connected groups of more than one folder, each sorted and space-separated. */
  cycles: string[];
  /** Import statements from a folder into a higher layer (by LAYERS). */
  upward: string[];
  /** Folders that are in no layer. */
  unplaced: string[];
}

const IMPORT_SPECIFIER =
  /(?:\bimport|\bexport)\s[^'";]*?\bfrom\s+['"](\.[^'"]+)['"]|\bimport\s*\(?\s*['"](\.[^'"]+)['"]/g;

/** The production files' (tests aside) folder-to-folder imports under `srcDir`. */
export function importGraph(srcDir: string): ImportGraph {
  const root = resolve(srcDir);
  const edges = new Map<string, ImportEdge>();
  for (const file of sourceFiles(root)) {
    const from = folderOf(root, file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT_SPECIFIER)) {
      const specifier = match[1] ?? match[2];
      const to = folderOf(root, resolve(dirname(file), specifier));
      if (from === to) continue;
      const key = `${from} ${to}`;
      const edge = edges.get(key) ?? { from, to, imports: [] };
      edge.imports.push(`${relative(root, file)} -> ${specifier}`);
      edges.set(key, edge);
    }
  }
  const list = [...edges.values()].sort((a, b) =>
    `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`),
  );
  const mutualPairs = list
    .filter((edge) => edge.from < edge.to && edges.has(`${edge.to} ${edge.from}`))
    .map((edge) => `${edge.from} ${edge.to}`);
  const rank = new Map(LAYERS.flatMap((layer, index) => layer.map((name) => [name, index])));
  const folders = new Set(list.flatMap((edge) => [edge.from, edge.to]));
  return {
    edges: list,
    mutualPairs,
    cycles: stronglyConnected(list),
    upward: list
      .filter((edge) => (rank.get(edge.from) ?? -1) < (rank.get(edge.to) ?? -1))
      .flatMap((edge) => edge.imports),
    unplaced: [...folders].filter((folder) => !rank.has(folder)).sort(),
  };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

/** The top folder under src a file or module path belongs to; `(root)` for src's own files. */
function folderOf(root: string, path: string): string {
  const parts = relative(root, path).split(sep);
  if (parts.length > 1) return parts[0];
  const isFolder = statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  return isFolder ? parts[0] : ROOT;
}

/** Tarjan's algorithm over the folder graph; only groups of two or more folders are kept. */
function stronglyConnected(edges: ImportEdge[]): string[] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const target of next.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1) groups.push(group.sort().join(' '));
  };
  for (const { from } of edges) if (!index.has(from)) visit(from);
  return groups.sort();
}

/** A plain-text listing: edges with their import counts, then pairs, cycles and upward imports. */
export function describeGraph(graph: ImportGraph): string {
  return [
    ...graph.edges.map((edge) => `${edge.from} -> ${edge.to} (${edge.imports.length})`),
    `mutual pairs (${graph.mutualPairs.length}): ${graph.mutualPairs.join(', ')}`,
    `cycles (${graph.cycles.length}): ${graph.cycles.join(', ')}`,
    `upward imports (${graph.upward.length}):`,
    ...graph.upward.map((line) => `  ${line}`),
    `unplaced folders: ${graph.unplaced.join(', ')}`,
  ].join('\n');
}
