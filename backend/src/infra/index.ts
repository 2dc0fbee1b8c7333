/**
 * The infrastructure seam: the only module that imports cdktf / @cdktf/*. Everything else
 * talks to these types and classes, so replacing cdktf (cdktn, plain Terraform JSON) stays
 * a change inside this folder.
 */
export type { AwsPlatformInput, AwsSpaceInput, AwsSpaceOutputs } from './aws/aws-inputs';
export { awsPlatformInputSchema, awsSpaceInputSchema } from './aws/aws-inputs';
export { CloudStacks, type CloudStackRun } from './cloud-stacks';
export { READY_MARKER } from './core/cloud-init';
export { InfraModule } from './infra.module';
export { PLATFORM_ID_LABEL, SPACE_ID_LABEL } from './core/labels';
export {
  AWS_SPACE_OUTPUTS,
  OPENSTACK_SPACE_OUTPUTS,
  PLATFORM_OUTPUTS,
  readOutputs,
  type PlatformOutputs,
} from './core/outputs';
export { AWS_DATA_DEVICE, dataDevicePath, GCP_DATA_DEVICE, SSH_USER } from './core/ports';
export type { GcpPlatformInput } from './gcp/gcp-inputs';
export { gcpPlatformInputSchema } from './gcp/gcp-inputs';
export type {
  OpenstackPlatformInput,
  OpenstackSpaceInput,
  OpenstackSpaceOutputs,
} from './openstack/openstack-inputs';
export {
  openstackPlatformInputSchema,
  openstackSpaceInputSchema,
} from './openstack/openstack-inputs';
export { providerEnvironment, type CloudCredentials } from './provider-environment';
export type { InfraLogEntry, InfraLogSink } from './runner/infra-log-entry';
export { terraformBinary } from './runner/terraform-binary';
export { TerraformCancelledError, TerraformError } from './runner/terraform-errors';
export {
  TerraformRunner,
  type TerraformOutput,
  type TerraformRunnerOptions,
  type TerraformRunOptions,
} from './runner/terraform-runner';
export { stackRequest } from './stack-request';
export {
  StackSynthesizer,
  stackWorkDir,
  type StackKind,
  type StackRequest,
  type StackSynthesizerOptions,
  type SynthesizedStack,
} from './stack-synthesizer';
