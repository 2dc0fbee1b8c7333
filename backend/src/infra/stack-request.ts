import type { z } from 'zod';
import { schemaFailed } from '../common/validation.pipe';
import { awsPlatformInputSchema, awsSpaceInputSchema } from './aws/aws-inputs';
import { gcpPlatformInputSchema } from './gcp/gcp-inputs';
import {
  openstackPlatformInputSchema,
  openstackSpaceInputSchema,
} from './openstack/openstack-inputs';
import type { StackKind, StackRequest } from './stack-synthesizer';

/** The input schema of every stack there is, by `<target>:<kind>`. */
const INPUT_SCHEMAS: {
  [R in StackRequest as `${R['target']}:${R['kind']}`]: z.ZodType<R['input']>;
} = {
  'aws:space': awsSpaceInputSchema,
  'aws:platform': awsPlatformInputSchema,
  'gcp:platform': gcpPlatformInputSchema,
  'openstack:space': openstackSpaceInputSchema,
  'openstack:platform': openstackPlatformInputSchema,
};

/**
 * The request for a space's or platform's stack: `input` (its stored options plus what
 * Fieldstation fills in) validated and defaulted by the stack's schema. Invalid input is a 400
 * naming the option (`options.<field>`), so the API refuses it before a job would fail on it.
 */
export function stackRequest(
  target: StackRequest['target'],
  kind: StackKind,
  input: Record<string, unknown>,
): StackRequest {
  const schema = (INPUT_SCHEMAS as Partial<Record<string, z.ZodType>>)[`${target}:${kind}`];
  if (!schema) throw new Error(`there is no ${kind} stack for ${target}`);
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw schemaFailed(parsed.error.issues, 'options');
  return { target, kind, input: parsed.data } as StackRequest;
}
