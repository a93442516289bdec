import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createMediaServiceApp } from '../../infra/lib/media-service-app';
import { REPO_ROOT } from '../../infra/lib/repo';

const CDK_JSON = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };

export interface SynthOptions {
  /**
   * Run the synth-time checks `cdk synth` runs (cdk-nag and aws-cdk-lib's default rules). Off for
   * tests that look at properties: the checks have a test of their own and cost seconds each.
   */
  checks?: boolean;
}

/**
 * The app as `cdk synth` builds it (the feature flags of cdk.json, `media:*` context), except that
 * esbuild does not run: `aws:cdk:bundling-stacks` empty keeps the tests offline and fast.
 */
export function synthesize(context: Record<string, unknown> = {}, options: SynthOptions = {}): Synthesized {
  const key = JSON.stringify([context, options]);
  let found = synthesized.get(key);
  if (!found) synthesized.set(key, (found = synthesizeOnce(context, options)));
  return found;
}

type Synthesized = ReturnType<typeof synthesizeOnce>;

// A synth costs seconds: the test modules of one process share the stacks they ask for alike.
const synthesized = new Map<string, Synthesized>();

/** A configuration that exercises the optional paths: browser origins and a KMS-encrypted bucket. */
export const CONFIGURED = {
  'media:allowedOrigins': 'https://school.example,http://localhost:5173',
  'media:bucketEncryption': 'kms',
};

// A URL-signing key pair made for the tests, as docs/operations.md makes one with openssl.
const CDN_KEYS = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

/** CloudFront in front of the derivatives (docs/operations.md § CDN), on top of CONFIGURED. */
export const CDN = {
  ...CONFIGURED,
  'media:cdn': 'true',
  'media:cdnPublicKeyPem': CDN_KEYS.publicKey,
  'media:cdnPrivateKeySecretName': 'media/dev/cdn-private-key',
  'media:cdnDomainName': 'media-cdn.school.example',
  'media:cdnCertificateArn': 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
};

function synthesizeOnce(context: Record<string, unknown>, options: SynthOptions) {
  const { app, stack } = createMediaServiceApp({
    context: {
      ...CDK_JSON.context,
      'aws:cdk:bundling-stacks': [],
      ...(options.checks ? {} : { '@aws-cdk/core:validateAgainstDefaultRules': false }),
      ...context,
    },
    outdir: mkdtempSync(join(tmpdir(), 'media-cdk-')),
    checks: options.checks ?? false,
    // CDK's built-in template validation costs most of a synth; the checks' own test keeps it.
    builtinCloudFormationValidation: options.checks ?? false,
  });
  /** The logical id of a construct's CloudFormation resource. */
  const idOf = (construct: IConstruct) => stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  return { app, stack, template: Template.fromStack(stack), idOf };
}

// CloudFormation JSON: shapes vary by resource type.
type Json = any;

/** Resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, Json> {
  return template.findResources(type);
}

/** The service's own functions (they carry Powertools settings), by their `functions/<name>`. */
export function serviceFunctions(template: Template): Record<string, { id: string; props: Json }> {
  const found: Record<string, { id: string; props: Json }> = {};
  for (const [id, resource] of Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))) {
    const env = resource.Properties.Environment?.Variables ?? {};
    if (!env.POWERTOOLS_SERVICE_NAME) continue;
    found[functionName(id)] = { id, props: resource.Properties };
  }
  return found;
}

/**
 * The functions that read the service's configuration (bucket, database, tokens): all but the
 * transform function, which is given none of it (docs/large-media.md § Least power).
 */
export function configuredFunctions(template: Template): ReturnType<typeof serviceFunctions> {
  const { 'transform-video': _, ...configured } = serviceFunctions(template);
  return configured;
}

const NAMES: Record<string, string> = {
  ApiRequestUpload: 'request-upload',
  ApiGetDownload: 'get-download',
  ApiMediaApi: 'media-api',
  ProcessingProcessUpload: 'process-upload',
  ProcessingProcessVideo: 'process-video',
  ProcessingTransformVideo: 'transform-video',
  ProcessingSweeper: 'sweeper',
  MigrationsMigrate: 'migrate',
  FacesDetectFaces: 'detect-faces',
};

function functionName(logicalId: string): string {
  const entry = Object.entries(NAMES).find(
    ([prefix]) => logicalId.startsWith(prefix) && /^[0-9A-F]{8}$/.test(logicalId.slice(prefix.length)),
  );
  if (!entry) throw new Error(`unexpected service function ${logicalId}`);
  return entry[1];
}

/** The logical id of the only resource of a type whose id starts with a prefix. */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(resourcesOf(template, type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`${ids.length} ${type} resources start with ${prefix}`);
  return ids[0]!;
}

/**
 * IAM statements as text a reader can compare: `{ "Fn::GetAtt": [bucket, "Arn"] }` joined with
 * `/incoming/*` becomes `bucket/incoming/*`, other references their logical id.
 */
export function readable(value: Json, names: Record<string, string>): Json {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => readable(v, names));
  if (value && typeof value === 'object') {
    if ('Fn::GetAtt' in value) return names[value['Fn::GetAtt'][0]] ?? `${value['Fn::GetAtt'][0]}.${value['Fn::GetAtt'][1]}`;
    if ('Ref' in value) return names[value.Ref] ?? value.Ref;
    if ('Fn::Join' in value) return (value['Fn::Join'][1] as Json[]).map((v) => readable(v, names)).join(value['Fn::Join'][0]);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, readable(v, names)]));
  }
  return value;
}

/** Every statement of the identity policies attached to a role. */
export function statementsOfRole(template: Template, roleId: string): Json[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[]);
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
