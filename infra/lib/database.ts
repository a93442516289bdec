import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { Network } from './network';

/** How functions reach the database: the configuration they read, and the right to sign in. */
export interface DatabaseConnection {
  environment: Record<string, string>;
  grantConnect(grantee: iam.IGrantable): void;
}

export interface DatabaseProps {
  network: Network;
  stage: string;
  minCapacity: number;
  maxCapacity: number;
  logRetentionDays: number;
  removalPolicy: RemovalPolicy;
  /** A database (behind an RDS Proxy with IAM auth) that already exists, instead of a new cluster. */
  existing?: {
    proxyName: string;
    proxyArn: string;
    proxyEndpoint: string;
    securityGroupId: string;
    databaseName: string;
    username: string;
  };
}

const PORT = 5432;
const DATABASE_NAME = 'media';
const USERNAME = 'media_admin';

/**
 * PostgreSQL for AWS: Aurora Serverless v2 in isolated subnets behind an RDS Proxy. Functions sign
 * in to the proxy with IAM tokens made from their own roles (no password reaches them); the proxy
 * signs in to the cluster with a generated Secrets Manager secret that rotates every 30 days.
 */
export class Database extends Construct implements DatabaseConnection {
  readonly proxy: rds.IDatabaseProxy;
  readonly cluster?: rds.DatabaseCluster;
  readonly environment: Record<string, string>;
  private readonly username: string;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const { network } = props;
    let proxySecurityGroups: ec2.ISecurityGroup[];

    if (props.existing) {
      const existing = props.existing;
      proxySecurityGroups = [ec2.SecurityGroup.fromSecurityGroupId(this, 'ProxySecurityGroup', existing.securityGroupId)];
      this.proxy = rds.DatabaseProxy.fromDatabaseProxyAttributes(this, 'Proxy', {
        dbProxyName: existing.proxyName,
        dbProxyArn: existing.proxyArn,
        endpoint: existing.proxyEndpoint,
        securityGroups: proxySecurityGroups,
      });
      this.username = existing.username;
      this.environment = connectionEnvironment(existing.proxyEndpoint, existing.username, existing.databaseName);
    } else {
      const clusterIdentifier = `media-${props.stage}`;
      const engine = rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_13 });
      // Created here so that it has a retention; the cluster then writes into it.
      const postgresLogs = new logs.LogGroup(this, 'PostgresLogs', {
        logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
        retention: props.logRetentionDays as logs.RetentionDays,
        removalPolicy: props.removalPolicy,
      });
      const cluster = new rds.DatabaseCluster(this, 'Cluster', {
        clusterIdentifier,
        engine,
        credentials: rds.Credentials.fromGeneratedSecret(USERNAME),
        defaultDatabaseName: DATABASE_NAME,
        port: PORT,
        writer: rds.ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
        serverlessV2MinCapacity: props.minCapacity,
        serverlessV2MaxCapacity: props.maxCapacity,
        vpc: network.vpc,
        vpcSubnets: network.databaseSubnets,
        storageEncrypted: true,
        iamAuthentication: true,
        parameterGroup: new rds.ParameterGroup(this, 'Parameters', { engine, parameters: { 'rds.force_ssl': '1' } }),
        cloudwatchLogsExports: ['postgresql'],
        backup: { retention: Duration.days(7) },
        deletionProtection: props.removalPolicy === RemovalPolicy.RETAIN,
        removalPolicy: props.removalPolicy === RemovalPolicy.RETAIN ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      });
      cluster.node.addDependency(postgresLogs);
      cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(30), vpcSubnets: network.functionSubnets });
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-RDS11',
        reason: 'A non-default port hides nothing: the cluster sits in isolated subnets and admits only its proxy and the secret rotation.',
      });
      if (props.removalPolicy !== RemovalPolicy.RETAIN) {
        Validations.of(cluster).acknowledge({
          id: 'AwsSolutions-RDS10',
          reason: 'The operator chose a disposable stage (media:removalPolicy=destroy): its database may be deleted with the stack.',
        });
      }

      proxySecurityGroups = [
        new ec2.SecurityGroup(this, 'ProxySecurityGroup', {
          vpc: network.vpc,
          description: 'Media database proxy: in from the functions, out to the cluster',
          allowAllOutbound: false,
        }),
      ];
      const proxy = new rds.DatabaseProxy(this, 'Proxy', {
        proxyTarget: rds.ProxyTarget.fromCluster(cluster),
        secrets: [cluster.secret!],
        vpc: network.vpc,
        vpcSubnets: network.databaseSubnets,
        iamAuth: true,
        requireTLS: true,
        securityGroups: proxySecurityGroups,
      });
      cluster.connections.allowDefaultPortFrom(proxy, 'the proxy signs in to the cluster');
      this.cluster = cluster;
      this.proxy = proxy;
      this.username = USERNAME;
      this.environment = connectionEnvironment(proxy.endpoint, USERNAME, DATABASE_NAME);
    }

    const proxyConnections = new ec2.Connections({ securityGroups: proxySecurityGroups });
    proxyConnections.allowFrom(network.functionSecurityGroup, ec2.Port.tcp(PORT), 'the functions sign in through the proxy');
  }

  grantConnect(grantee: iam.IGrantable): void {
    this.proxy.grantConnect(grantee, this.username);
  }
}

/** The URL carries the proxy, the user and the database, never a password: IAM signs the sign-in. */
function connectionEnvironment(endpoint: string, username: string, databaseName: string): Record<string, string> {
  return { DATABASE_URL: `postgres://${username}@${endpoint}:${PORT}/${databaseName}`, MEDIA_DB_IAM_AUTH: 'true' };
}

/** The LocalStack profile's database: the compose PostgreSQL, by URL (a local, throwaway password). */
export function localDatabase(url: string): DatabaseConnection {
  return { environment: { DATABASE_URL: url }, grantConnect: () => {} };
}
