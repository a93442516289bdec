import * as z from 'zod';
import { AUDIT_RETENTION_FLOOR_DAYS, PURPOSES, RETENTION_KEEP, THROTTLE_DEFAULTS, type Purpose } from '@media/core';
import { APP_ROLE } from '@media/db/app-role';

/**
 * Everything an operator can choose, read once from CDK context (`cdk.json` or `-c key=value`) and
 * validated here, so a typo fails the synth with a sentence instead of deploying something else.
 */
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}, 'an origin is scheme://host[:port], nothing after it');

/** A PEM public key, as `openssl rsa -pubout` writes it (context values may carry `\n` for newlines). */
const pem = z
  .string()
  .transform((v) => v.replace(/\\n/g, '\n').trim())
  .refine(
    (v) => /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----$/.test(v),
    'a PEM public key (-----BEGIN PUBLIC KEY-----)',
  );

/** The retention periods CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/**
 * How long each purpose's media is kept: `attendance=400,general=1095,profile=keep` on the command
 * line, or an object in cdk.json. Purposes left out keep the service's defaults.
 */
const retentionByPurpose = z
  .union([
    z.string().transform((v) =>
      Object.fromEntries(
        v
          .split(',')
          .filter((p) => p.trim())
          .map((pair) => pair.split('=').map((s) => s.trim())),
      ),
    ),
    z.record(z.string(), z.union([z.string(), z.number()])),
  ])
  .pipe(
    z.partialRecord(
      z.enum(PURPOSES),
      z.union([z.literal(RETENTION_KEEP), z.coerce.number().int().min(1).max(36_500)], {
        error: `a number of days (1 to 36500) or "${RETENTION_KEEP}"`,
      }),
    ),
  );

/** Gibibytes as an operator writes them (fractions allowed), at most a pebibyte. */
const gibibytes = z.coerce
  .number()
  .positive()
  .max(1024 * 1024);

const ExistingDatabase = z.object({
  /** RDS Proxy name, ARN and endpoint of a database that already exists (with IAM auth on). */
  proxyName: z.string().min(1),
  proxyArn: z.string().startsWith('arn:'),
  proxyEndpoint: z.string().min(1),
  /** Security group of the proxy: the functions' group is allowed into it on 5432. */
  securityGroupId: z.string().startsWith('sg-'),
  databaseName: z.string().min(1).default('media'),
  /** The owner role: only the migrate function signs in as it. */
  username: z.string().min(1).default('media_admin'),
  /** The DML-only role the service functions sign in as (the migrations create `media_app`). */
  appUsername: z.string().min(1).default(APP_ROLE),
  /** Its secret, registered on the proxy: when given, the migrate function sets the role's password from it. */
  appSecretArn: z.string().startsWith('arn:').optional(),
});

export const SettingsSchema = z
  .object({
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'lowercase letters, digits and dashes, 20 at most')
      .default('dev'),
    /** `aws` (the real thing) or `localstack` (same stack, function URLs and the compose PostgreSQL). */
    profile: z.enum(['aws', 'localstack']).default('aws'),
    allowedOrigins: list.pipe(z.array(origin)).default([]),
    jwtIssuer: z.string().min(1).optional(),
    jwtAudience: z.string().min(1).optional(),
    jwtJwksUrl: z.string().url().startsWith('https://').optional(),
    vpcId: z.string().startsWith('vpc-').optional(),
    existingDatabase: z
      .union([z.string().transform((s) => JSON.parse(s) as unknown), z.record(z.string(), z.unknown())])
      .pipe(ExistingDatabase)
      .optional(),
    /** Unset: `destroy` for the evaluation stage, `retain` for every other (see settingsFromContext). */
    removalPolicy: z.enum(['retain', 'destroy']).optional(),
    bucketEncryption: z.enum(['s3', 'kms']).default('s3'),
    alarmEmail: z.string().email().optional(),
    architecture: z.enum(['arm64', 'x86_64']).optional(),
    processorConcurrency: z.coerce.number().int().min(2).max(1000).default(10),
    apiRateLimit: z.coerce.number().int().min(1).default(50),
    apiBurstLimit: z.coerce.number().int().min(1).default(100),
    sweeperRateMinutes: z.coerce.number().int().min(1).max(1440).default(5),
    /** Per purpose: days before the daily retention run deletes an item, or `keep` (docs/privacy.md). */
    retentionDays: retentionByPurpose.default({}),
    /** Days the access audit log is kept (at least 30; the database refuses shorter). */
    auditRetentionDays: z.coerce.number().int().min(AUDIT_RETENTION_FLOOR_DAYS).max(36_500).optional(),
    /** What a school may hold, stored and reserved, in GiB. */
    schoolQuotaGiB: gibibytes.optional(),
    /** What one person (not a service) may hold in a school, in GiB. */
    personQuotaGiB: gibibytes.optional(),
    /** Requests per second (and burst) each school may send to one API function instance (docs/operations.md § Throttles). */
    schoolRequestsPerSecond: z.coerce.number().positive().max(100_000).optional(),
    schoolRequestBurst: z.coerce.number().int().min(1).max(100_000).optional(),
    /** The same for all requests without a valid token together, apart from every school's budget. */
    unauthenticatedRequestsPerSecond: z.coerce.number().positive().max(100_000).optional(),
    unauthenticatedRequestBurst: z.coerce.number().int().min(1).max(100_000).optional(),
    logRetentionDays: z.coerce
      .number()
      .refine((d) => RETENTION_DAYS.includes(d), `one of ${RETENTION_DAYS.join(', ')}`)
      .default(30),
    // At least one: the API functions fetch the identity provider's JWKS from the internet.
    natGateways: z.coerce.number().int().min(1).max(3).default(1),
    databaseMinCapacity: z.coerce.number().min(0.5).max(256).default(0.5),
    databaseMaxCapacity: z.coerce.number().min(1).max(256).default(4),
    /** CloudFront in front of the derivatives (docs/operations.md § CDN); off: S3 presigned URLs for every variant. */
    cdn: z
      .union([z.boolean(), z.enum(['true', 'false'])])
      .transform((v) => v === true || v === 'true')
      .default(false),
    /** The public half of the URL-signing key pair (PEM, `-----BEGIN PUBLIC KEY-----`). */
    cdnPublicKeyPem: pem.optional(),
    /** The key pair being retired during a rotation: still trusted, no longer used to sign. */
    cdnPreviousPublicKeyPem: pem.optional(),
    /** Name of the Secrets Manager secret that holds the private half (created by the operator, never by the template). */
    cdnPrivateKeySecretName: z
      .string()
      .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'a Secrets Manager secret name')
      .optional(),
    /** The distribution's own host name (viewers get URLs on it) and its ACM certificate in us-east-1: TLS 1.2+ needs both. */
    cdnDomainName: z
      .string()
      .regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, 'a host name such as media-cdn.school.example')
      .optional(),
    cdnCertificateArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate\/.+$/, 'an ACM certificate ARN in us-east-1')
      .optional(),
    /** The distribution's id after the first deploy (output `CdnDistributionId`): the KMS key then lets only it decrypt. */
    cdnDistributionId: z
      .string()
      .regex(/^[A-Z0-9]+$/, 'a CloudFront distribution id (the CdnDistributionId output)')
      .optional(),
    cdnPriceClass: z.enum(['PriceClass_100', 'PriceClass_200', 'PriceClass_All']).default('PriceClass_100'),
    /** LocalStack profile: the address browsers and tests reach S3 by (presigned URLs carry it). */
    s3PublicEndpoint: z.string().url().default('http://localhost:4566'),
    /** LocalStack profile: the compose PostgreSQL, as the Lambda containers reach it. */
    localDatabaseUrl: z.string().startsWith('postgres').default('postgres://media:media@postgres:5432/media'),
  })
  .refine((s) => !s.existingDatabase || s.vpcId, {
    message: 'an existing database needs the VPC it lives in (media:vpcId)',
    path: ['existingDatabase'],
  })
  .refine((s) => !s.cdn || (s.cdnPublicKeyPem && s.cdnPrivateKeySecretName && s.cdnDomainName && s.cdnCertificateArn), {
    message: 'a CDN needs cdnPublicKeyPem, cdnPrivateKeySecretName, cdnDomainName and cdnCertificateArn',
    path: ['cdn'],
  })
  .refine((s) => !s.cdn || s.profile === 'aws', {
    message: 'the localstack profile has no CloudFront: it keeps S3 URLs',
    path: ['cdn'],
  })
  .refine(
    (s) =>
      (s.schoolRequestBurst ?? THROTTLE_DEFAULTS.school.burst) >= (s.schoolRequestsPerSecond ?? 0) &&
      (s.unauthenticatedRequestBurst ?? THROTTLE_DEFAULTS.unauthenticated.burst) >= (s.unauthenticatedRequestsPerSecond ?? 0),
    {
      // The functions would refuse it at cold start: refuse it at synth.
      message: 'a request burst must be at least its rate (schoolRequestBurst, unauthenticatedRequestBurst)',
      path: ['schoolRequestBurst'],
    },
  )
  .refine((s) => s.databaseMinCapacity <= s.databaseMaxCapacity, {
    message: 'databaseMinCapacity must not exceed databaseMaxCapacity',
    path: ['databaseMinCapacity'],
  });

export type MediaSettings = Omit<z.output<typeof SettingsSchema>, 'removalPolicy'> & {
  architecture: 'arm64' | 'x86_64';
  removalPolicy: 'retain' | 'destroy';
};

export const CONTEXT_PREFIX = 'media:';

/**
 * The stage deployed to try the service (docs/operations.md § An evaluation deploy): unless told
 * otherwise it keeps nothing on `cdk destroy`, so a trial leaves no bucket, queue, log group or
 * database snapshot behind to be found and paid for months later.
 */
export const EVALUATION_STAGE = 'eval';

/**
 * Settings from context values named `media:<setting>`. The LocalStack profile runs its functions
 * on the host's own architecture (no CPU emulation in Docker) unless told otherwise.
 */
export function settingsFromContext(tryGetContext: (key: string) => unknown): MediaSettings {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(SettingsSchema.shape)) {
    const value = tryGetContext(`${CONTEXT_PREFIX}${key}`);
    if (value !== undefined) raw[key] = value;
  }
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${CONTEXT_PREFIX}${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid context: ${what}`);
  }
  const hostArchitecture = process.arch === 'arm64' ? 'arm64' : 'x86_64';
  const architecture = parsed.data.architecture ?? (parsed.data.profile === 'localstack' ? hostArchitecture : 'arm64');
  const removalPolicy = parsed.data.removalPolicy ?? (parsed.data.stage === EVALUATION_STAGE ? 'destroy' : 'retain');
  return { ...parsed.data, architecture, removalPolicy };
}

/**
 * The service configuration an operator chose in context, as the functions' environment
 * (packages/core/src/config.ts reads it): what is not set keeps the service's defaults.
 */
export function limitsEnvironment(settings: MediaSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [purpose, days] of Object.entries(settings.retentionDays) as [Purpose, number | typeof RETENTION_KEEP][]) {
    env[`MEDIA_RETENTION_DAYS_${purpose.toUpperCase()}`] = String(days);
  }
  if (settings.auditRetentionDays !== undefined) env.MEDIA_AUDIT_RETENTION_DAYS = String(settings.auditRetentionDays);
  const bytes = (gib: number) => String(Math.round(gib * 1024 ** 3));
  if (settings.schoolQuotaGiB !== undefined) env.MEDIA_TENANT_QUOTA_BYTES = bytes(settings.schoolQuotaGiB);
  if (settings.personQuotaGiB !== undefined) env.MEDIA_PERSON_QUOTA_BYTES = bytes(settings.personQuotaGiB);
  const throttles = {
    MEDIA_SCHOOL_REQUESTS_PER_SECOND: settings.schoolRequestsPerSecond,
    MEDIA_SCHOOL_REQUEST_BURST: settings.schoolRequestBurst,
    MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND: settings.unauthenticatedRequestsPerSecond,
    MEDIA_UNAUTHENTICATED_REQUEST_BURST: settings.unauthenticatedRequestBurst,
  };
  for (const [name, value] of Object.entries(throttles)) if (value !== undefined) env[name] = String(value);
  return env;
}
