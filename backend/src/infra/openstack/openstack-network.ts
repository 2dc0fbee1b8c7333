import { Construct } from 'constructs';
import type { z } from 'zod';
import { PLATFORM_PORTS, SSH_PORT } from '../core/ports';
import type { openstackSpaceInputSchema } from './openstack-inputs';
import {
  DataNetworkingNetwork,
  DataNetworkingSecgroup,
  NetworkingNetwork,
  NetworkingRouter,
  NetworkingRouterInterface,
  NetworkingSecgroup,
  NetworkingSecgroupRule,
  NetworkingSubnet,
} from './openstack-resources';

type SpaceInput = z.infer<typeof openstackSpaceInputSchema>;

/** What platforms need from an OpenStack space, whichever way it came to exist. */
export interface OpenstackSpaceNetwork {
  readonly networkId: string;
  readonly securityGroupId: string;
}

/** Records an existing network and security group; the lookups fail the apply on a typo. */
export class OpenstackExistingNetwork extends Construct implements OpenstackSpaceNetwork {
  readonly networkId: string;
  readonly securityGroupId: string;

  constructor(scope: Construct, id: string, input: Extract<SpaceInput, { mode: 'existing' }>) {
    super(scope, id);
    new DataNetworkingNetwork(this, 'pool', { name: input.externalPool, external: true });
    this.networkId = new DataNetworkingNetwork(this, 'network', { name: input.networkName }).id;
    this.securityGroupId = new DataNetworkingSecgroup(this, 'security-group', {
      name: input.securityGroupName,
    }).id;
  }
}

export interface OpenstackNetworkConfig {
  input: Extract<SpaceInput, { mode: 'create' }>;
  tags: Record<string, string>;
}

/** Creates a network, subnet, router to the external pool and the platforms' security group. */
export class OpenstackNetwork extends Construct implements OpenstackSpaceNetwork {
  readonly networkId: string;
  readonly securityGroupId: string;

  constructor(scope: Construct, id: string, { input, tags }: OpenstackNetworkConfig) {
    super(scope, id);
    const prefix = `fs-${input.name}`;
    const pool = new DataNetworkingNetwork(this, 'pool', {
      name: input.externalPool,
      external: true,
    });

    const network = new NetworkingNetwork(this, 'network', {
      name: `${prefix}-net`,
      adminStateUp: true,
      tags,
    });
    const subnet = new NetworkingSubnet(this, 'subnet', {
      name: `${prefix}-subnet`,
      networkId: network.id,
      cidr: input.subnetCidr,
      ipVersion: input.subnetCidr.includes(':') ? 6 : 4,
      dnsNameservers: input.dnsNameservers,
      tags,
    });
    const router = new NetworkingRouter(this, 'router', {
      name: `${prefix}-router`,
      externalNetworkId: pool.id,
      tags,
    });
    new NetworkingRouterInterface(this, 'router-subnet', {
      routerId: router.id,
      subnetId: subnet.id,
    });

    const group = new NetworkingSecgroup(this, 'security-group', {
      name: `${prefix}-platforms`,
      description: 'Fieldstation platforms: broker, Grafana and SSH',
      tags,
    });
    const allow = (name: string, port: number, sources: string[]) =>
      sources.forEach(
        (source, index) =>
          new NetworkingSecgroupRule(this, `ingress-${name}-${index}`, {
            securityGroupId: group.id,
            direction: 'ingress',
            ethertype: source.includes(':') ? 'IPv6' : 'IPv4',
            protocol: 'tcp',
            portRangeMin: port,
            portRangeMax: port,
            remoteIpPrefix: source,
            description: `${name} from ${source}`,
          }),
      );
    allow('ssh', SSH_PORT, input.sshCidrs);
    for (const { name, port } of PLATFORM_PORTS) allow(name, port, input.ingressCidrs);

    this.networkId = network.id;
    this.securityGroupId = group.id;
  }
}
