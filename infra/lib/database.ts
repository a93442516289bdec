import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { APP_ROLE } from '@media/db/app-role';
import type { Network } from './network';

/** One way into the database: the configuration a function reads, and the right to sign in so. */
export interface DatabaseSignIn {
  environment: Record<string, string>;
  grantConnect(grantee: iam.IGrantable): void;
}

/**
 * How functions reach the database. The service functions sign in as the DML-only app role
 * (`media_app`, created by the migrations); only the migrate function signs in as the owner.
 */
export interface DatabaseConnection {
  app: DatabaseSignIn;
  owner: DatabaseSignIn;
  /**
   * The app role's secret, registered with the proxy: the migrate function sets the role's
   * password from it after migrating (the proxy signs in to the database with that password).
   */
  appSecret?: secretsmanager.ISecret;
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
    /** The owner role, for the migrate function. */
    username: string;
    /** The role the service functions sign in as (`media_app`, or a role that is a member of it). */
    appUsername: string;
    /** Its secret on the proxy, if the migrate function should set the role's password from it. */
    appSecretArn?: string;
  };
}

const PORT = 5432;
const DATABASE_NAME = 'media';
const USERNAME = 'media_admin';
const ROTATION_DAYS = 30;
/** The characters generated database passwords leave out (aws-cdk-lib's default for RDS secrets). */
const DATABASE_SECRET_EXCLUDED = ' %+~`#$&*()|[]{}:;<>?!\'/@"\\';

/**
 * PostgreSQL for AWS: Aurora Serverless v2 in isolated subnets behind an RDS Proxy. Functions sign
 * in to the proxy with IAM tokens made from their own roles (no password reaches them): the
 * service functions as the DML-only `media_app`, the migrate function as the owner `media_admin`.
 * The proxy signs in to the cluster as either with a generated Secrets Manager secret of each,
 * rotated every 30 days.
 */
export class Database extends Construct implements DatabaseConnection {
  readonly proxy: rds.IDatabaseProxy;
  readonly cluster?: rds.DatabaseCluster;
  readonly app: DatabaseSignIn;
  readonly owner: DatabaseSignIn;
  readonly appSecret?: secretsmanager.ISecret;
  /** The app secret's rotation (a new cluster only): it must start once the role has its password. */
  readonly appSecretRotation?: secretsmanager.SecretRotation;

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
      this.owner = this.signIn(existing.proxyEndpoint, existing.username, existing.databaseName);
      this.app = this.signIn(existing.proxyEndpoint, existing.appUsername, existing.databaseName);
      if (existing.appSecretArn) this.appSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'AppSecret', existing.appSecretArn);
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
      cluster.addRotationSingleUser({ automaticallyAfter: Duration.days(ROTATION_DAYS), vpcSubnets: network.functionSubnets });
      // The app role's own password: generated, kept in Secrets Manager, given to the proxy (which
      // signs in with it) and set on the role by the migrate function; rotated like the owner's.
      const appSecret = new rds.DatabaseSecret(this, 'AppSecret', {
        username: APP_ROLE,
        excludeCharacters: DATABASE_SECRET_EXCLUDED,
      }).attach(cluster);
      this.appSecretRotation = new secretsmanager.SecretRotation(this, 'AppSecretRotation', {
        application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
        secret: appSecret,
        target: cluster,
        vpc: network.vpc,
        vpcSubnets: network.functionSubnets,
        automaticallyAfter: Duration.days(ROTATION_DAYS),
        excludeCharacters: DATABASE_SECRET_EXCLUDED,
      });
      this.appSecret = appSecret;
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
        secrets: [cluster.secret!, appSecret],
        vpc: network.vpc,
        vpcSubnets: network.databaseSubnets,
        iamAuth: true,
        requireTLS: true,
        securityGroups: proxySecurityGroups,
      });
      cluster.connections.allowDefaultPortFrom(proxy, 'the proxy signs in to the cluster');
      this.cluster = cluster;
      this.proxy = proxy;
      this.owner = this.signIn(proxy.endpoint, USERNAME, DATABASE_NAME);
      this.app = this.signIn(proxy.endpoint, APP_ROLE, DATABASE_NAME);
    }

    const proxyConnections = new ec2.Connections({ securityGroups: proxySecurityGroups });
    proxyConnections.allowFrom(network.functionSecurityGroup, ec2.Port.tcp(PORT), 'the functions sign in through the proxy');
  }

  /** The URL carries the proxy, the user and the database, never a password: IAM signs the sign-in. */
  private signIn(endpoint: string, username: string, databaseName: string): DatabaseSignIn {
    return {
      environment: { DATABASE_URL: `postgres://${username}@${endpoint}:${PORT}/${databaseName}`, MEDIA_DB_IAM_AUTH: 'true' },
      grantConnect: (grantee) => this.proxy.grantConnect(grantee, username),
    };
  }
}

/**
 * The LocalStack profile's database: the compose PostgreSQL, by URL (a local, throwaway password).
 * One sign-in for all functions: LocalStack has no RDS Proxy to hold a second role's password.
 */
export function localDatabase(url: string): DatabaseConnection {
  const signIn: DatabaseSignIn = { environment: { DATABASE_URL: url }, grantConnect: () => {} };
  return { app: signIn, owner: signIn };
}
