import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustomResource, Duration, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { DatabaseConnection } from './database';
import { MediaFunction, type FunctionRuntime } from './media-function';
import { REPO_ROOT } from './repo';

export interface MigrationsProps {
  runtime: FunctionRuntime;
  database: DatabaseConnection;
}

const MIGRATIONS_DIR = join(REPO_ROOT, 'packages', 'db', 'src', 'migrations');

/**
 * A fingerprint of the migrations and of the migrator that lists them: when it changes, the custom
 * resource updates, and CloudFormation runs the migrate function within the deploy.
 */
export function migrationsFingerprint(): string {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(MIGRATIONS_DIR)
      .filter((name) => name.endsWith('.ts'))
      .sort()
      .map((name) => join(MIGRATIONS_DIR, name)),
    join(REPO_ROOT, 'packages', 'db', 'src', 'migrator.ts'),
  ];
  for (const file of files) hash.update(file.slice(REPO_ROOT.length)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The schema as a CloudFormation resource: every deploy that carries a new migration (and the
 * first one) runs Kysely's `migrateToLatest` before the functions that need it go live, then sets
 * the app role's password from its secret. A failed migration fails the deploy, and CloudFormation
 * rolls the stack back.
 */
export class Migrations extends Construct {
  readonly function: MediaFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    const appSecret = props.database.appSecret;
    this.function = new MediaFunction(this, 'Migrate', {
      name: 'migrate',
      runtime: props.runtime,
      description: 'Runs the Kysely migrations (custom resource, on deploy)',
      memorySize: 512,
      timeout: Duration.minutes(5),
      // The only function that signs in as the owner; it then gives the app role its password.
      environment: {
        ...props.database.owner.environment,
        ...(appSecret ? { MEDIA_APP_DB_SECRET_ARN: appSecret.secretArn } : {}),
      },
    });
    props.database.owner.grantConnect(this.function);
    appSecret?.grantRead(this.function);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: props.runtime.logRetentionDays as logs.RetentionDays,
        removalPolicy: props.runtime.removalPolicy,
      }),
    });
    const functionId = Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnElement);
    Validations.of(provider).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The CDK custom-resource framework function uses AWSLambdaBasicExecutionRole, which only lets it write its own logs.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
        reason: 'The CDK custom-resource framework may invoke any version of the one migrate function (its ARN with :*), nothing else.',
      },
    );

    this.resource = new CustomResource(this, 'Schema', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MediaSchema',
      properties: {
        Migrations: migrationsFingerprint(),
        // A new database (another URL) gets its schema too; the URL holds no secret.
        Database: props.database.owner.environment.DATABASE_URL,
        // A new app secret gets its password set on the role (its ARN, never its value).
        ...(appSecret ? { AppSecret: appSecret.secretArn } : {}),
      },
    });
  }
}
