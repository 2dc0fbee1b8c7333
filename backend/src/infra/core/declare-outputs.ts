import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';

/** Declares stack outputs under fixed names (not cdktf's generated ids). */
export function declareOutputs<K extends string>(
  scope: Construct,
  names: Record<K, string>,
  values: Record<K, string>,
): void {
  for (const key of Object.keys(names) as K[]) {
    new TerraformOutput(scope, names[key], { value: values[key] }).overrideLogicalId(names[key]);
  }
}
