import type { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /** Reuse this VPC (looked up at synth; needs an account and region) instead of creating one. */
  vpcId?: string;
  natGateways: number;
  logRetentionDays: number;
  removalPolicy: RemovalPolicy;
}

/**
 * Where the functions and the database live. A new VPC has public subnets (NAT only), private
 * subnets for the functions and isolated ones for the database; S3, SQS and SNS are reached through
 * VPC endpoints, the identity provider's JWKS through NAT.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  readonly functionSubnets: ec2.SubnetSelection;
  readonly databaseSubnets: ec2.SubnetSelection;
  /** The functions' one security group: out to HTTPS and the database proxy, nothing in. */
  readonly functionSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    this.functionSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    if (props.vpcId) {
      this.vpc = ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: props.vpcId });
      this.databaseSubnets = this.vpc.isolatedSubnets.length ? { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } : this.functionSubnets;
    } else {
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
        retention: props.logRetentionDays as logs.RetentionDays,
        removalPolicy: props.removalPolicy,
      });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: props.natGateways,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
          { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 26 },
        ],
        flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL } },
      });
      this.vpc = vpc;
      this.databaseSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    }

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'Media service functions: HTTPS out (S3, SQS, JWKS) and the database proxy',
      allowAllOutbound: false,
    });
    this.functionSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: S3, SQS and the identity provider JWKS');

    if (!props.vpcId) {
      // An existing VPC keeps whatever endpoints it has (a second SQS endpoint with private DNS would clash).
      const vpc = this.vpc as ec2.Vpc;
      vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.functionSubnets] });
      const sqs = vpc.addInterfaceEndpoint('Sqs', {
        service: ec2.InterfaceVpcEndpointAwsService.SQS,
        subnets: this.functionSubnets,
        privateDnsEnabled: true,
        // Only the functions reach it, not the whole VPC.
        open: false,
      });
      sqs.connections.allowDefaultPortFrom(this.functionSecurityGroup, 'the functions send and receive through it');
      // Outbound events are published to SNS: children's ids stay on the AWS network, not the NAT path.
      const sns = vpc.addInterfaceEndpoint('Sns', {
        service: ec2.InterfaceVpcEndpointAwsService.SNS,
        subnets: this.functionSubnets,
        privateDnsEnabled: true,
        open: false,
      });
      sns.connections.allowDefaultPortFrom(this.functionSecurityGroup, 'the functions publish events through it');
    }
  }
}
