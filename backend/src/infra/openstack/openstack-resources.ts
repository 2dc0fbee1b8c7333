import {
  TerraformDataSource,
  TerraformProvider,
  TerraformResource,
  type TerraformMetaArguments,
} from 'cdktf';
import type { Construct } from 'constructs';

/*
 * There are no prebuilt cdktf bindings for OpenStack, so these are small typed wrappers for
 * the handful of `openstack_*` resources Fieldstation uses. Config keys are camelCase here and
 * snake_case in the JSON; map-valued attributes (tags, metadata) keep their keys untouched.
 */

const OPENSTACK = { providerName: 'openstack', providerVersionConstraint: '~> 3.0' };

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Snake-cases attribute names and the keys of nested blocks (arrays of objects). */
function toAttributes(config: object): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    attributes[snakeCase(key)] = Array.isArray(value)
      ? value.map((item: unknown) => (item && typeof item === 'object' ? toAttributes(item) : item))
      : value;
  }
  return attributes;
}

export class OpenstackProvider extends TerraformProvider {
  constructor(
    scope: Construct,
    id: string,
    private readonly config: { region?: string },
  ) {
    super(scope, id, {
      terraformResourceType: 'openstack',
      terraformGeneratorMetadata: OPENSTACK,
      terraformProviderSource: 'terraform-provider-openstack/openstack',
    });
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return toAttributes(this.config);
  }
}

abstract class OpenstackResource<Config extends object> extends TerraformResource {
  constructor(
    scope: Construct,
    id: string,
    type: string,
    protected readonly config: Config,
    meta: TerraformMetaArguments = {},
  ) {
    super(scope, id, {
      ...meta,
      terraformResourceType: type,
      terraformGeneratorMetadata: OPENSTACK,
    });
  }

  get id(): string {
    return this.getStringAttribute('id');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return toAttributes(this.config);
  }
}

abstract class OpenstackDataSource<Config extends object> extends TerraformDataSource {
  constructor(
    scope: Construct,
    id: string,
    type: string,
    private readonly config: Config,
  ) {
    super(scope, id, { terraformResourceType: type, terraformGeneratorMetadata: OPENSTACK });
  }

  get id(): string {
    return this.getStringAttribute('id');
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return toAttributes(this.config);
  }
}

type Tags = { tags: Record<string, string> };

/** Resources whose `tags` are a string set in OpenStack: stored as `key=value` strings. */
abstract class TaggedResource<Config extends Tags> extends OpenstackResource<
  Omit<Config, 'tags'> & { tags: string[] }
> {
  private readonly labels: Record<string, string>;

  constructor(
    scope: Construct,
    id: string,
    type: string,
    config: Config,
    meta?: TerraformMetaArguments,
  ) {
    const { tags, ...rest } = config;
    super(
      scope,
      id,
      type,
      { ...rest, tags: Object.entries(tags).map(([k, v]) => `${k}=${v}`) },
      meta,
    );
    this.labels = tags;
  }

  /** Read by the labelling aspect. */
  get tagsInput(): Record<string, string> {
    return this.labels;
  }
}

export class NetworkingNetwork extends TaggedResource<
  { name: string; adminStateUp: boolean } & Tags
> {
  constructor(
    scope: Construct,
    id: string,
    config: { name: string; adminStateUp: boolean } & Tags,
  ) {
    super(scope, id, 'openstack_networking_network_v2', config);
  }
}

export interface SubnetConfig extends Tags {
  name: string;
  networkId: string;
  cidr: string;
  ipVersion: 4 | 6;
  dnsNameservers: string[];
}
export class NetworkingSubnet extends TaggedResource<SubnetConfig> {
  constructor(scope: Construct, id: string, config: SubnetConfig) {
    super(scope, id, 'openstack_networking_subnet_v2', config);
  }
}

export class NetworkingRouter extends TaggedResource<
  { name: string; externalNetworkId: string } & Tags
> {
  constructor(
    scope: Construct,
    id: string,
    config: { name: string; externalNetworkId: string } & Tags,
  ) {
    super(scope, id, 'openstack_networking_router_v2', config);
  }
}

export class NetworkingRouterInterface extends OpenstackResource<{
  routerId: string;
  subnetId: string;
}> {
  constructor(scope: Construct, id: string, config: { routerId: string; subnetId: string }) {
    super(scope, id, 'openstack_networking_router_interface_v2', config);
  }
}

export class NetworkingSecgroup extends TaggedResource<
  { name: string; description: string } & Tags
> {
  constructor(scope: Construct, id: string, config: { name: string; description: string } & Tags) {
    super(scope, id, 'openstack_networking_secgroup_v2', config);
  }
}

export interface SecgroupRuleConfig {
  securityGroupId: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: 'tcp';
  portRangeMin: number;
  portRangeMax: number;
  remoteIpPrefix: string;
  description: string;
}
export class NetworkingSecgroupRule extends OpenstackResource<SecgroupRuleConfig> {
  constructor(scope: Construct, id: string, config: SecgroupRuleConfig) {
    super(scope, id, 'openstack_networking_secgroup_rule_v2', config);
  }
}

export interface PortConfig extends Tags {
  name: string;
  networkId: string;
  securityGroupIds: string[];
}
export class NetworkingPort extends TaggedResource<PortConfig> {
  constructor(scope: Construct, id: string, config: PortConfig) {
    super(scope, id, 'openstack_networking_port_v2', config);
  }
}

export class NetworkingFloatingip extends TaggedResource<
  { pool: string; portId: string; description: string } & Tags
> {
  constructor(
    scope: Construct,
    id: string,
    config: { pool: string; portId: string; description: string } & Tags,
  ) {
    super(scope, id, 'openstack_networking_floatingip_v2', config);
  }

  get address(): string {
    return this.getStringAttribute('address');
  }
}

export class ComputeKeypair extends OpenstackResource<{ name: string; publicKey: string }> {
  constructor(scope: Construct, id: string, config: { name: string; publicKey: string }) {
    super(scope, id, 'openstack_compute_keypair_v2', config);
  }

  get name(): string {
    return this.getStringAttribute('name');
  }
}

export interface ComputeInstanceConfig extends Tags {
  name: string;
  flavorName: string;
  imageName: string;
  keyPair: string;
  userData: string;
  /** Attached through a port, which carries the security groups. */
  network: { port: string }[];
  metadata: Record<string, string>;
}
export class ComputeInstance extends TaggedResource<ComputeInstanceConfig> {
  constructor(
    scope: Construct,
    id: string,
    config: ComputeInstanceConfig,
    meta?: TerraformMetaArguments,
  ) {
    super(scope, id, 'openstack_compute_instance_v2', config, meta);
  }

  get availabilityZone(): string {
    return this.getStringAttribute('availability_zone');
  }
}

export interface BlockstorageVolumeConfig {
  name: string;
  size: number;
  availabilityZone: string;
  /** Volumes take no tags; the owner labels go into metadata. */
  metadata: Record<string, string>;
}
export class BlockstorageVolume extends OpenstackResource<BlockstorageVolumeConfig> {
  constructor(scope: Construct, id: string, config: BlockstorageVolumeConfig) {
    super(scope, id, 'openstack_blockstorage_volume_v3', config);
  }

  /** Read by the labelling aspect. */
  get metadataInput(): Record<string, string> {
    return this.config.metadata;
  }
}

export class ComputeVolumeAttach extends OpenstackResource<{
  instanceId: string;
  volumeId: string;
}> {
  constructor(scope: Construct, id: string, config: { instanceId: string; volumeId: string }) {
    super(scope, id, 'openstack_compute_volume_attach_v2', config);
  }
}

/** Looks up an existing network by name (optionally only external ones, i.e. pools). */
export class DataNetworkingNetwork extends OpenstackDataSource<{
  name: string;
  external?: boolean;
}> {
  constructor(scope: Construct, id: string, config: { name: string; external?: boolean }) {
    super(scope, id, 'openstack_networking_network_v2', config);
  }
}

export class DataNetworkingSecgroup extends OpenstackDataSource<{ name: string }> {
  constructor(scope: Construct, id: string, config: { name: string }) {
    super(scope, id, 'openstack_networking_secgroup_v2', config);
  }
}
