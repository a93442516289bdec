import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_SECRET } from '@media/core';
import { createMediaServiceApp } from '../../../infra/lib/media-service-app';
import { REPO_ROOT } from '../../../infra/lib/repo';
import { settingsFromContext } from '../../../infra/lib/settings';
import { asArray, configuredFunctions, readable, resourcesOf, serviceFunctions, statementsOfRole, synthesize } from '../synth';

const local = synthesize({ 'media:profile': 'localstack', 'media:architecture': 'arm64' });
const aws = synthesize();
const localFunctions = serviceFunctions(local.template);
const localConfigured = configuredFunctions(local.template);
const awsFunctions = serviceFunctions(aws.template);
const countOf = (template: typeof local.template, type: string) => Object.keys(resourcesOf(template, type)).length;

/** A function's S3 and SQS statements, with references named for what they are, comparable across the profiles. */
function dataAccess(side: typeof local, name: string): unknown[] {
  const fns = serviceFunctions(side.template);
  const names = {
    [side.idOf(side.stack.storage.bucket)]: 'bucket',
    [side.idOf(side.stack.queues.ingest)]: 'ingest-queue',
    [side.idOf(side.stack.queues.eventsTopic)]: 'events-topic',
  };
  return statementsOfRole(side.template, fns[name]!.props.Role['Fn::GetAtt'][0])
    .filter((s) => asArray(s.Action as string | string[]).some((a) => /^(s3|sqs|sns|kms):/.test(a)))
    .map((s) => readable(s, names));
}

describe('the localstack profile', () => {
  it('is the same app under another stack name', () => {
    expect(local.stack.stackName).toBe('MediaService-dev-local');
  });

  it('has no API Gateway, no RDS, no VPC and no secret (LocalStack community has none of them)', () => {
    for (const type of [
      'AWS::ApiGatewayV2::Api',
      'AWS::RDS::DBCluster',
      'AWS::RDS::DBProxy',
      'AWS::EC2::VPC',
      'AWS::SecretsManager::Secret',
    ]) {
      expect(countOf(local.template, type), type).toBe(0);
    }
  });

  it('fronts each API function with a function URL instead, and names them in the outputs', () => {
    const urls = Object.values(resourcesOf(local.template, 'AWS::Lambda::Url')).map((u) => u.Properties);
    expect(urls.map((u) => u.TargetFunctionArn['Fn::GetAtt'][0]).sort()).toEqual(
      ['request-upload', 'get-download', 'media-api'].map((n) => localFunctions[n]!.id).sort(),
    );
    for (const url of urls) expect(url.AuthType).toBe('NONE');
    const outputs = local.template.toJSON().Outputs;
    for (const key of ['RequestUploadUrl', 'GetDownloadUrl', 'MediaApiUrl']) expect(outputs[key], key).toBeDefined();
  });

  it('points every function at the compose PostgreSQL, signing in with its password', () => {
    for (const [name, fn] of Object.entries(localConfigured)) {
      expect(fn.props.Environment.Variables.DATABASE_URL, name).toBe('postgres://media:media@postgres:5432/media');
      expect(fn.props.Environment.Variables.MEDIA_DB_IAM_AUTH, name).toBeUndefined();
      expect(fn.props.VpcConfig, name).toBeUndefined();
    }
  });

  it('has presigned URLs carry the address the host reaches, path-style', () => {
    for (const [name, fn] of Object.entries(localConfigured)) {
      expect(fn.props.Environment.Variables.MEDIA_S3_PUBLIC_ENDPOINT, name).toBe('http://localhost:4566');
      expect(fn.props.Environment.Variables.MEDIA_S3_FORCE_PATH_STYLE, name).toBe('true');
    }
  });

  it("verifies the local stack's HS256 development tokens, with the well-known development secret", () => {
    expect(DEFAULT_LOCAL_SECRET).toBe('local-dev-secret');
    for (const [name, fn] of Object.entries(localConfigured)) {
      expect(fn.props.Environment.Variables.MEDIA_JWT_SECRET, name).toBe('local-dev-secret');
      expect(fn.props.Environment.Variables.MEDIA_JWT_JWKS_URL, name).toBeUndefined();
    }
  });

  it('runs the migrations as a custom resource, as in AWS', () => {
    expect(countOf(local.template, 'Custom::MediaSchema')).toBe(1);
  });

  it('keeps the bucket, queues and notifications exactly as in AWS', () => {
    for (const type of [
      'AWS::S3::Bucket',
      'AWS::S3::BucketPolicy',
      'AWS::SQS::Queue',
      'AWS::SQS::QueuePolicy',
      'Custom::S3BucketNotifications',
      'AWS::Lambda::EventSourceMapping',
    ]) {
      // The one allowed difference: the localstack stack names its (pinned) account where the other refers to it.
      const props = (side: typeof local) =>
        Object.values(resourcesOf(side.template, type)).map((r) =>
          JSON.stringify(r.Properties).replaceAll('"000000000000"', '{"Ref":"AWS::AccountId"}'),
        );
      expect(props(local), type).toEqual(props(aws));
    }
  });

  it('keeps the same functions with the same S3, SQS and KMS permissions as in AWS', () => {
    expect(Object.keys(localFunctions).sort()).toEqual(Object.keys(awsFunctions).sort());
    for (const name of Object.keys(awsFunctions)) expect(dataAccess(local, name), name).toEqual(dataAccess(aws, name));
  });

  it("runs the functions on the host's architecture unless told otherwise (no CPU emulation in Docker)", () => {
    const context = (values: Record<string, string>) => (key: string) => values[key];
    expect(settingsFromContext(context({ 'media:profile': 'localstack' })).architecture).toBe(
      process.arch === 'arm64' ? 'arm64' : 'x86_64',
    );
    expect(settingsFromContext(context({ 'media:profile': 'localstack', 'media:architecture': 'arm64' })).architecture).toBe('arm64');
    expect(settingsFromContext(context({})).architecture).toBe('arm64');
  });
});

describe('the localstack profile cannot reach a real account', () => {
  const context = {
    ...JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context,
    'aws:cdk:bundling-stacks': [],
    'media:profile': 'localstack',
  };
  /** Builds the app (no synth) with the account the CDK CLI would pass for the credentials in use. */
  function withAccount(account: string | undefined, build: () => unknown): unknown {
    const saved = process.env.CDK_DEFAULT_ACCOUNT;
    if (account === undefined) delete process.env.CDK_DEFAULT_ACCOUNT;
    else process.env.CDK_DEFAULT_ACCOUNT = account;
    try {
      return build();
    } finally {
      if (saved === undefined) delete process.env.CDK_DEFAULT_ACCOUNT;
      else process.env.CDK_DEFAULT_ACCOUNT = saved;
    }
  }

  it('refuses to synthesize with credentials of any other account, and says why', () => {
    expect(() => withAccount('123456789012', () => createMediaServiceApp({ context, checks: false }))).toThrow(
      /media:profile=localstack deploys only to LocalStack \(account 000000000000\), but the credentials in use belong to account 123456789012: .*development JWT secret/,
    );
  });

  it("synthesizes with LocalStack's own account (cdklocal's), or with none (a plain synth)", () => {
    const { stack } = withAccount('000000000000', () => createMediaServiceApp({ context, checks: false })) as ReturnType<
      typeof createMediaServiceApp
    >;
    expect(stack.account).toBe('000000000000');
    expect(local.stack.account).toBe('000000000000');
  });

  it("pins the stack to LocalStack's account, so `cdk deploy` refuses credentials of another", () => {
    expect(local.app.synth().getStackByName(local.stack.stackName).environment.account).toBe('000000000000');
  });

  it('carries a rule that fails the template in any other account, even uploaded by hand', () => {
    const rule = local.template.toJSON().Rules.LocalStackOnly;
    expect(rule.Assertions).toEqual([
      {
        Assert: { 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, '000000000000'] },
        AssertDescription: expect.stringContaining('deploys only to LocalStack'),
      },
    ]);
    expect(Object.keys(aws.template.toJSON().Rules ?? {})).not.toContain('LocalStackOnly');
  });

  it("is the only profile with a JWT secret in a function's environment", () => {
    for (const [name, fn] of Object.entries(awsFunctions)) expect(fn.props.Environment.Variables.MEDIA_JWT_SECRET, name).toBeUndefined();
    expect(JSON.stringify(aws.template.toJSON())).not.toContain(DEFAULT_LOCAL_SECRET);
  });
});
