import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALLOWED_CYCLES, describeGraph, importGraph } from '../scripts/import-graph';

/**
 * The folders of backend/src import each other only downward (scripts/import-graph.ts LAYERS):
 * no folder pair imports each other and no folder cycle forms, other than the OpenAPI build
 * script's. `IMPORT_GRAPH_REPORT=1` prints the whole folder graph.
 */
describe('backend/src import graph', () => {
  const graph = importGraph(join(__dirname, '..', 'src'));
  if (process.env.IMPORT_GRAPH_REPORT) console.log(describeGraph(graph));

  it('places every folder in a layer', () => {
    expect(graph.unplaced, 'add the new folder to LAYERS in scripts/import-graph.ts').toEqual([]);
  });

  it('has no folder cycles but the OpenAPI build script', () => {
    expect(graph.cycles, describeGraph(graph)).toEqual(ALLOWED_CYCLES);
  });

  it('has no imports that run upward but the OpenAPI build script', () => {
    const upward = graph.upward.filter((line) => !line.startsWith('openapi/write-openapi.ts '));
    expect(upward, describeGraph(graph)).toEqual([]);
  });
});
