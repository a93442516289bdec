import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { createMediaServiceApp } from '../../../infra/lib/media-service-app';
import { CDN, configuredFunctions, serviceFunctions, synthesize } from '../synth';

/** Synthesizes with the checks `cdk synth` runs; throws when one of them reports a violation. */
function checkedTemplate(context: Record<string, unknown> = {}) {
  const { app, stack } = synthesize(context, { checks: true });
  const assembly = app.synth();
  return { stack, assembly, template: assembly.getStackByName(stack.stackName).template };
}

type Suppression = { id: string; reason: string };
const suppressionsIn = (template: { Resources: Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress?: Suppression[] } } }> }) =>
  Object.entries(template.Resources).flatMap(([id, r]) =>
    (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s) => ({ resource: id, ...s })),
  );

describe('the security review at synth (cdk-nag AwsSolutions and aws-cdk-lib default rules)', () => {
  const checked = checkedTemplate();

  it('passes with no unacknowledged finding for the default stack', () => {
    const report = JSON.parse(readFileSync(join(checked.assembly.directory, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  });

  it("gives every acknowledged finding a written reason (ours and aws-cdk-lib's own)", () => {
    const suppressions = suppressionsIn(checked.template);
    expect(suppressions.length).toBeGreaterThan(0);
    for (const s of suppressions) {
      expect(s.reason.split(' ').length, `${s.resource} ${s.id}: "${s.reason}"`).toBeGreaterThanOrEqual(8);
    }
  });

  it('acknowledges only the findings the review accepted', () => {
    const rules = [
      ...new Set(
        suppressionsIn(checked.template)
          .map((s) => s.id.replace(/\[.*$/, ''))
          .filter((id) => id.startsWith('AwsSolutions-')),
      ),
    ].sort();
    expect(rules).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-RDS11',
      'AwsSolutions-S1',
      'AwsSolutions-SNS2',
    ]);
  });

  it('passes for a disposable stage with a KMS-encrypted bucket, origins and an alarm e-mail', () => {
    expect(() =>
      checkedTemplate({
        'media:stage': 'preview',
        'media:removalPolicy': 'destroy',
        'media:bucketEncryption': 'kms',
        'media:allowedOrigins': 'https://school.example',
        'media:alarmEmail': 'oncall@school.example',
      }),
    ).not.toThrow();
  });

  it('passes with the CDN in front of the derivatives, acknowledging only the CDN findings the review accepted', () => {
    const cdn = checkedTemplate(CDN);
    const report = JSON.parse(readFileSync(join(cdn.assembly.directory, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
    const distribution = suppressionsIn(cdn.template).filter((s) => s.id.startsWith('AwsSolutions-CFR'));
    expect(distribution.map((s) => s.id).sort()).toEqual(['AwsSolutions-CFR1', 'AwsSolutions-CFR2']);
    for (const s of distribution) expect(s.reason.split(' ').length, s.id).toBeGreaterThanOrEqual(8);
  });

  it('is live: a public bucket added to the stack fails the synth', () => {
    const { app, stack } = createMediaServiceApp({
      context: { ...JSON.parse(readFileSync('cdk.json', 'utf8')).context, 'aws:cdk:bundling-stacks': [] },
    });
    new s3.Bucket(stack, 'Careless', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
    expect(() => app.synth()).toThrow(/AwsSolutions-S2/);
  });
});

describe('secrets', () => {
  const { template } = synthesize();
  const text = JSON.stringify(template.toJSON());

  it('none is in the template: the database password is generated and stays in Secrets Manager', () => {
    expect(text).not.toMatch(/MasterUserPassword":"[^{]/);
    expect(text).not.toContain('"SecretString"');
    expect(text).toContain('GenerateSecretString');
  });

  it('no function gets a password, a signing secret or a token in its environment', () => {
    for (const [name, fn] of Object.entries(serviceFunctions(template))) {
      const env = fn.props.Environment.Variables as Record<string, unknown>;
      // A secret's ARN names where the secret is kept, not its value.
      expect(
        Object.keys(env).filter((k) => /SECRET|PASSWORD|TOKEN|KEY/.test(k) && !/_SECRET_ARN$/.test(k)),
        name,
      ).toEqual([]);
      expect(JSON.stringify(env.DATABASE_URL ?? ''), name).not.toMatch(/postgres:\/\/[^@"]*:[^@"]*@/);
    }
  });

  it("the only secret a function is told about is the app role's, by ARN, to the migrate function", () => {
    const told = Object.entries(serviceFunctions(template)).flatMap(([name, fn]) =>
      Object.entries(fn.props.Environment.Variables as Record<string, unknown>)
        .filter(([key]) => /_SECRET_ARN$/.test(key))
        .map(([key, value]) => ({ name, key, value })),
    );
    expect(told).toEqual([
      { name: 'migrate', key: 'MEDIA_APP_DB_SECRET_ARN', value: { Ref: expect.stringMatching(/^DatabaseAppSecretAttachment/) } },
    ]);
    const attachment = template.toJSON().Resources[(told[0]!.value as { Ref: string }).Ref];
    expect(attachment.Type).toBe('AWS::SecretsManager::SecretTargetAttachment');
  });

  it("no function of the AWS profile verifies tokens with a shared secret: the identity provider's JWKS only", () => {
    for (const [name, fn] of Object.entries(configuredFunctions(template))) {
      const env = fn.props.Environment.Variables as Record<string, unknown>;
      expect(env.MEDIA_JWT_SECRET, name).toBeUndefined();
      expect(env.MEDIA_JWT_JWKS_URL, name).toEqual({ Ref: 'JwtJwksUrl' });
    }
  });

  it('the local development secret never reaches the AWS profile', () => {
    expect(text).not.toContain('local-dev-secret');
  });

  it('the identity provider comes in as parameters, not baked in', () => {
    const parameters = template.toJSON().Parameters;
    for (const name of ['JwtJwksUrl', 'JwtIssuer', 'JwtAudience']) expect(parameters[name]?.Type, name).toBe('String');
    expect(parameters.JwtJwksUrl.AllowedPattern).toBe('^https://.+');
  });

  it('parameters take their defaults from context, so `-c media:jwtIssuer=…` is enough to deploy', () => {
    const configured = synthesize({
      'media:jwtIssuer': 'https://id.school.example/',
      'media:jwtAudience': 'media',
      'media:jwtJwksUrl': 'https://id.school.example/.well-known/jwks.json',
    }).template.toJSON().Parameters;
    expect(configured.JwtIssuer.Default).toBe('https://id.school.example/');
    expect(configured.JwtAudience.Default).toBe('media');
    expect(configured.JwtJwksUrl.Default).toBe('https://id.school.example/.well-known/jwks.json');
  });
});

describe('synth on a fresh clone', () => {
  const { stack, app } = synthesize();

  it('needs no AWS account, credentials or look-up: the stack is environment-agnostic', () => {
    expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    expect(app.synth().manifest.missing ?? []).toEqual([]);
  });

  it('refuses bad context with a sentence naming the setting', () => {
    expect(() => synthesize({ 'media:allowedOrigins': 'https://school.example/path' })).toThrow(/media:allowedOrigins/);
    expect(() => synthesize({ 'media:processorConcurrency': '1' })).toThrow(/media:processorConcurrency/);
    expect(() => synthesize({ 'media:existingDatabase': JSON.stringify({ proxyName: 'p' }) })).toThrow(/media:existingDatabase/);
  });
});
