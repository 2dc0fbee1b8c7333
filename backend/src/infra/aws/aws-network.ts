import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { KeyPair } from '@cdktf/provider-aws/lib/key-pair';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { PLATFORM_PORTS, SSH_PORT } from '../core/ports';
import type { awsSpaceInputSchema } from './aws-inputs';

export interface AwsNetworkConfig {
  input: z.infer<typeof awsSpaceInputSchema>;
  tags: Record<string, string>;
}

/** A space's network: VPC, one public subnet, internet route, security group and key pair. */
export class AwsNetwork extends Construct {
  readonly vpc: Vpc;
  readonly subnet: Subnet;
  readonly securityGroup: SecurityGroup;
  readonly keyPair: KeyPair;

  constructor(scope: Construct, id: string, { input, tags }: AwsNetworkConfig) {
    super(scope, id);
    const prefix = `fs-${input.name}`;
    const named = (suffix: string) => ({ ...tags, Name: `${prefix}-${suffix}` });

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: input.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: named('vpc'),
    });

    // The zone is the user's choice or looked up, never a hard-coded name.
    const availabilityZone =
      input.availabilityZone ??
      Fn.element(new DataAwsAvailabilityZones(this, 'zones', { state: 'available' }).names, 0);

    this.subnet = new Subnet(this, 'subnet', {
      vpcId: this.vpc.id,
      cidrBlock: input.subnetCidr,
      availabilityZone,
      mapPublicIpOnLaunch: false,
      tags: named('public'),
    });

    const gateway = new InternetGateway(this, 'gateway', {
      vpcId: this.vpc.id,
      tags: named('igw'),
    });
    const routes = new RouteTable(this, 'routes', {
      vpcId: this.vpc.id,
      route: [{ cidrBlock: '0.0.0.0/0', gatewayId: gateway.id }],
      tags: named('routes'),
    });
    new RouteTableAssociation(this, 'routes-subnet', {
      subnetId: this.subnet.id,
      routeTableId: routes.id,
    });

    this.securityGroup = new SecurityGroup(this, 'security-group', {
      name: `${prefix}-platforms`,
      description: 'Fieldstation platforms: broker, Grafana and SSH',
      vpcId: this.vpc.id,
      tags: named('platforms'),
    });
    // One rule resource per port and source: each is tagged and changes independently.
    const allow = (name: string, port: number, sources: string[]) =>
      sources.forEach(
        (source, index) =>
          new VpcSecurityGroupIngressRule(this, `ingress-${name}-${index}`, {
            securityGroupId: this.securityGroup.id,
            description: `${name} from ${source}`,
            ipProtocol: 'tcp',
            fromPort: port,
            toPort: port,
            ...(source.includes(':') ? { cidrIpv6: source } : { cidrIpv4: source }),
            tags: named(`${name}-${index}`),
          }),
      );
    allow('ssh', SSH_PORT, input.sshCidrs);
    for (const { name, port } of PLATFORM_PORTS) allow(name, port, input.ingressCidrs);
    new VpcSecurityGroupEgressRule(this, 'egress-all', {
      securityGroupId: this.securityGroup.id,
      description: 'all outbound traffic (packages, images)',
      ipProtocol: '-1',
      cidrIpv4: '0.0.0.0/0',
      tags: named('egress'),
    });

    this.keyPair = new KeyPair(this, 'key-pair', {
      keyName: `${prefix}-${input.spaceId}`,
      publicKey: input.sshPublicKey,
      tags: named('key'),
    });
  }
}
