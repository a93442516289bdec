import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../../infra/lib/database';
import { migrationsFingerprint } from '../../../infra/lib/migrations';
import { settingsFromContext } from '../../../infra/lib/settings';
import { configuredFunctions, resourcesOf, serviceFunctions, synthesize } from '../synth';

const { template, stack, idOf } = synthesize();
const database = stack.database as Database;
const functions = serviceFunctions(template);
const subnets = resourcesOf(template, 'AWS::EC2::Subnet');
const cluster = Object.values(resourcesOf(template, 'AWS::RDS::DBCluster'))[0].Properties;
const proxy = Object.values(resourcesOf(template, 'AWS::RDS::DBProxy'))[0].Properties;

/** `Public`, `Private` or `Isolated`: the kind of subnet each reference names. */
const kindsOf = (refs: { Ref: string }[]) => [
  ...new Set(refs.map((r) => subnets[r.Ref]!.Properties.Tags.find((t: { Key: string }) => t.Key === 'aws-cdk:subnet-type').Value)),
];

describe('the database', () => {
  it('is Aurora PostgreSQL Serverless v2', () => {
    expect(cluster.Engine).toBe('aurora-postgresql');
    expect(cluster.ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 4 });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless', Engine: 'aurora-postgresql' });
  });

  it('lives in isolated subnets, as does its proxy', () => {
    const group = Object.values(resourcesOf(template, 'AWS::RDS::DBSubnetGroup'))[0].Properties;
    expect(kindsOf(group.SubnetIds)).toEqual(['Isolated']);
    expect(kindsOf(proxy.VpcSubnetIds)).toEqual(['Isolated']);
  });

  it('is encrypted, backed up for a week, protected from deletion and requires TLS', () => {
    expect(cluster.StorageEncrypted).toBe(true);
    expect(cluster.BackupRetentionPeriod).toBe(7);
    expect(cluster.DeletionProtection).toBe(true);
    template.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });

  it('has a generated admin password that stays in Secrets Manager and rotates every 30 days', () => {
    expect(cluster.MasterUserPassword).toEqual({
      'Fn::Join': ['', expect.arrayContaining([expect.stringContaining('{{resolve:secretsmanager:')])],
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"media_admin"}' }),
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
  });

  it('exports its logs to a log group with a retention', () => {
    expect(cluster.EnableCloudwatchLogsExports).toEqual(['postgresql']);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/rds/cluster/media-dev/postgresql', RetentionInDays: 30 });
  });
});

describe('the database proxy', () => {
  it('requires TLS and IAM authentication, for the owner and for the app role', () => {
    expect(proxy.RequireTLS).toBe(true);
    expect(proxy.EngineFamily).toBe('POSTGRESQL');
    expect(proxy.Auth).toEqual([
      { AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: { Ref: idOf(database.cluster!.secret!) } },
      { AuthScheme: 'SECRETS', IAMAuth: 'REQUIRED', SecretArn: { Ref: idOf(database.appSecret!) } },
    ]);
  });

  it("admits only the functions' security group, on 5432", () => {
    const proxySg = proxy.VpcSecurityGroupIds[0]['Fn::GetAtt'][0] as string;
    const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress')).filter(
      (rule) => rule.Properties.GroupId['Fn::GetAtt']?.[0] === proxySg,
    );
    expect(ingress.map((rule) => rule.Properties)).toEqual([
      expect.objectContaining({
        IpProtocol: 'tcp',
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { 'Fn::GetAtt': [idOf(stack.network!.functionSecurityGroup), 'GroupId'] },
      }),
    ]);
  });

  it('is what the functions sign in to with an IAM token and no password: as media_app, the migrate function as media_admin', () => {
    for (const [name, fn] of Object.entries(configuredFunctions(template))) {
      const env = fn.props.Environment.Variables;
      expect(env.MEDIA_DB_IAM_AUTH, name).toBe('true');
      const [, parts] = env.DATABASE_URL['Fn::Join'];
      const user = name === 'migrate' ? 'media_admin' : 'media_app';
      expect(parts, name).toEqual([`postgres://${user}@`, { 'Fn::GetAtt': [idOf(database.proxy), 'Endpoint'] }, ':5432/media']);
    }
  });
});

describe("the app role's secret", () => {
  const appSecretId = idOf(database.appSecret!);
  const rotationOf = (secretRef: string) =>
    Object.values(resourcesOf(template, 'AWS::SecretsManager::RotationSchedule')).find((r) => r.Properties.SecretId.Ref === secretRef);

  it('is a generated media_app password in Secrets Manager, attached to the cluster (host and port for the rotation)', () => {
    const attachment = resourcesOf(template, 'AWS::SecretsManager::SecretTargetAttachment')[appSecretId]!.Properties;
    expect(attachment.TargetType).toBe('AWS::RDS::DBCluster');
    expect(attachment.TargetId).toEqual({ Ref: idOf(database.cluster!) });
    const secret = resourcesOf(template, 'AWS::SecretsManager::Secret')[attachment.SecretId.Ref]!.Properties;
    expect(secret.GenerateSecretString).toMatchObject({ GenerateStringKey: 'password', SecretStringTemplate: '{"username":"media_app"}' });
    expect(secret.SecretString).toBeUndefined();
  });

  it("rotates every 30 days, one user, from the functions' subnets", () => {
    const schedule = rotationOf(appSecretId);
    expect(schedule?.Properties.RotationRules).toEqual({ ScheduleExpression: 'rate(30 days)' });
    const application = resourcesOf(template, 'AWS::Serverless::Application')[schedule!.Properties.RotationLambdaARN['Fn::GetAtt'][0]]!;
    const [mapping] = application.Properties.Location.ApplicationId['Fn::FindInMap'];
    expect(template.toJSON().Mappings[mapping].aws.applicationId).toMatch(/:applications\/SecretsManagerRDSPostgreSQLRotationSingleUser$/);
    expect(kindsOf(application.Properties.Parameters.vpcSubnetIds['Fn::Join'][1].filter((p: unknown) => p !== ','))).toEqual(['Private']);
  });

  it('starts rotating only once the migrate function has given the role its password', () => {
    const schedule = rotationOf(appSecretId)!;
    const application = resourcesOf(template, 'AWS::Serverless::Application')[schedule.Properties.RotationLambdaARN['Fn::GetAtt'][0]]!;
    expect(application.DependsOn).toContain(idOf(stack.migrations.resource));
  });

  it('is named in the outputs by its ARN, next to the admin secret', () => {
    expect(template.toJSON().Outputs.DatabaseAppSecretArn.Value).toEqual({ Ref: appSecretId });
  });

  it('reaches the migrate function as an ARN in its environment, and no other function', () => {
    for (const [name, fn] of Object.entries(functions)) {
      const arn = fn.props.Environment.Variables.MEDIA_APP_DB_SECRET_ARN;
      expect(arn, name).toEqual(name === 'migrate' ? { Ref: appSecretId } : undefined);
    }
  });
});

describe('the network', () => {
  it("puts every service function in private subnets, behind the functions' security group", () => {
    const sg = idOf(stack.network!.functionSecurityGroup);
    for (const [name, fn] of Object.entries(configuredFunctions(template))) {
      expect(kindsOf(fn.props.VpcConfig.SubnetIds), name).toEqual(['Private']);
      expect(fn.props.VpcConfig.SecurityGroupIds, name).toEqual([{ 'Fn::GetAtt': [sg, 'GroupId'] }]);
    }
  });

  it('lets the functions out only on HTTPS, and to the proxy', () => {
    const sg = resourcesOf(template, 'AWS::EC2::SecurityGroup')[idOf(stack.network!.functionSecurityGroup)].Properties;
    expect(sg.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      FromPort: 5432,
      ToPort: 5432,
      GroupId: { 'Fn::GetAtt': [idOf(stack.network!.functionSecurityGroup), 'GroupId'] },
    });
  });

  it('reaches S3 through a gateway endpoint, SQS and SNS through interface endpoints', () => {
    const endpoints = Object.values(resourcesOf(template, 'AWS::EC2::VPCEndpoint')).map((e) => e.Properties);
    expect(endpoints).toContainEqual(expect.objectContaining({ VpcEndpointType: 'Gateway', ServiceName: expect.objectContaining({}) }));
    expect(endpoints).toContainEqual(expect.objectContaining({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true }));
    expect(JSON.stringify(endpoints)).toContain('.s3');
    expect(JSON.stringify(endpoints)).toContain('.sqs');
    expect(JSON.stringify(endpoints)).toContain('.sns');
  });

  it('logs its traffic', () => {
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
  });
});

describe('the migrations', () => {
  const schema = Object.values(resourcesOf(template, 'Custom::MediaSchema'));

  it('are a custom resource that the migrate function serves through the custom-resource framework', () => {
    expect(schema).toHaveLength(1);
    const provider = schema[0].Properties.ServiceToken['Fn::GetAtt'][0] as string;
    const framework = resourcesOf(template, 'AWS::Lambda::Function')[provider].Properties;
    expect(framework.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN).toEqual({ 'Fn::GetAtt': [functions.migrate!.id, 'Arn'] });
  });

  it('run again whenever a migration changes (their fingerprint is a property)', () => {
    expect(schema[0].Properties.Migrations).toBe(migrationsFingerprint());
    expect(migrationsFingerprint()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('run against a new database when the database changes', () => {
    expect(JSON.stringify(schema[0].Properties.Database)).toContain('postgres://media_admin@');
  });

  it('run again when the app role gets a new secret, to give the role its password', () => {
    expect(schema[0].Properties.AppSecret).toEqual({ Ref: idOf(database.appSecret!) });
  });
});

describe('reusing an existing VPC and database', () => {
  // A VPC look-up needs an account and region; the answer a look-up would have cached is given here.
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
  process.env.CDK_DEFAULT_REGION = 'eu-west-1';
  const appSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:school-db-media-app-AbCdEf';
  const subnet = (id: string, az: string) => ({
    subnetId: id,
    cidr: '10.1.0.0/24',
    availabilityZone: az,
    routeTableId: id.replace('subnet-', 'rtb-'),
  });
  const reused = synthesize({
    'media:vpcId': 'vpc-0123456789abcdef0',
    'vpc-provider:account=123456789012:filter.vpc-id=vpc-0123456789abcdef0:region=eu-west-1:returnAsymmetricSubnets=true': {
      vpcId: 'vpc-0123456789abcdef0',
      vpcCidrBlock: '10.1.0.0/16',
      availabilityZones: [],
      subnetGroups: [
        {
          name: 'private',
          type: 'Private',
          subnets: [subnet('subnet-0a1b2c3d4e5f60001', 'eu-west-1a'), subnet('subnet-0a1b2c3d4e5f60002', 'eu-west-1b')],
        },
        {
          name: 'data',
          type: 'Isolated',
          subnets: [subnet('subnet-0a1b2c3d4e5f60003', 'eu-west-1a'), subnet('subnet-0a1b2c3d4e5f60004', 'eu-west-1b')],
        },
      ],
    },
    'media:existingDatabase': JSON.stringify({
      proxyName: 'school-db',
      proxyArn: 'arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0school',
      proxyEndpoint: 'school-db.proxy-abc.eu-west-1.rds.amazonaws.com',
      securityGroupId: 'sg-0123456789abcdef0',
      appSecretArn,
    }),
  });
  // The synth above ran at collection; later synths (the localstack profile's) must not see this account.
  for (const [key, value] of [
    ['CDK_DEFAULT_ACCOUNT', saved.account],
    ['CDK_DEFAULT_REGION', saved.region],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  const fns = configuredFunctions(reused.template);
  const connects = Object.values(resourcesOf(reused.template, 'AWS::IAM::Policy'))
    .flatMap((p) => p.Properties.PolicyDocument.Statement)
    .filter((st) => st.Action === 'rds-db:connect');

  it('creates no VPC, cluster, proxy or secret of its own', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::RDS::DBCluster',
      'AWS::RDS::DBProxy',
      'AWS::EC2::VPCEndpoint',
      'AWS::SecretsManager::Secret',
    ]) {
      expect(Object.keys(resourcesOf(reused.template, type)), type).toEqual([]);
    }
  });

  it("puts the functions in that VPC's private subnets and signs them in to that proxy: as media_app, the migrate function as media_admin", () => {
    for (const [name, fn] of Object.entries(fns)) {
      expect(fn.props.VpcConfig.SubnetIds, name).toEqual(['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002']);
      const user = name === 'migrate' ? 'media_admin' : 'media_app';
      expect(fn.props.Environment.Variables.DATABASE_URL, name).toBe(
        `postgres://${user}@school-db.proxy-abc.eu-west-1.rds.amazonaws.com:5432/media`,
      );
    }
    const users = connects.map((st) => JSON.stringify(st.Resource).match(/:dbuser:prx-0school\/(\w+)"/)?.[1]).sort();
    expect(users).toEqual(['media_admin', ...Array(7).fill('media_app')]);
  });

  it("has the migrate function set the app role's password from the operator's secret, which only it may read", () => {
    expect(fns.migrate!.props.Environment.Variables.MEDIA_APP_DB_SECRET_ARN).toBe(appSecretArn);
    const reads = Object.values(resourcesOf(reused.template, 'AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement.map((st: { Action: unknown }) => ({ roles: p.Properties.Roles, ...st })))
      .filter((st) => JSON.stringify(st.Action).includes('secretsmanager:'));
    expect(reads).toEqual([
      expect.objectContaining({ roles: [{ Ref: fns.migrate!.props.Role['Fn::GetAtt'][0] }], Resource: appSecretArn }),
    ]);
  });

  it("lets the functions into the existing proxy's security group on 5432", () => {
    reused.template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0',
      FromPort: 5432,
      ToPort: 5432,
    });
  });

  it('defaults the app role to media_app and sets no password without a secret to set it from', () => {
    const base = {
      proxyName: 'p',
      proxyArn: 'arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0p',
      proxyEndpoint: 'p.example',
      securityGroupId: 'sg-0123',
    };
    const settings = (value: object) =>
      settingsFromContext((key) => ({ 'media:vpcId': 'vpc-0123', 'media:existingDatabase': JSON.stringify(value) })[key]).existingDatabase;
    expect(settings(base)).toMatchObject({ username: 'media_admin', appUsername: 'media_app' });
    expect(settings(base)?.appSecretArn).toBeUndefined();
    expect(settings({ ...base, appUsername: 'school_media' })?.appUsername).toBe('school_media');
    expect(() => settings({ ...base, appSecretArn: 'media-app' })).toThrow(/media:existingDatabase\.appSecretArn/);
  });
});
