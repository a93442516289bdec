import * as z from 'zod/mini';
import { MediaError } from './errors';
import { pureSchema } from './pure-schema';
import './schema-messages';
import { PURPOSES, type Purpose } from './purposes';

/**
 * The HS256 secret of the local stack and of LocalStack deployments when none is set: public
 * knowledge, so never a secret of any real deployment.
 */
export const DEFAULT_LOCAL_SECRET = 'local-dev-secret';

// Factories, not schemas: the parts are built inside ConfigSchema's pure call, so a bundle that
// never loads the configuration builds none of them (the migrate function builds one, when it reads it).
const flag = () =>
  z.pipe(
    z.optional(z.enum(['true', 'false', '1', '0'])),
    z.transform((v) => v === 'true' || v === '1'),
  );

/** A whole number from the environment's text, within bounds. */
const whole = (min: number, max?: number) => z.coerce.number().check(z.int(), z.gte(min), ...(max === undefined ? [] : [z.lte(max)]));

const pendingLimit = () => whole(1, 10_000);

/** What a retention setting says for media that is never removed by age. */
export const RETENTION_KEEP = 'keep';

/** Days a purpose's media is kept, or `keep`: never removed by the retention run. */
const retentionDays = () => z.union([z.literal(RETENTION_KEEP), whole(1, 36_500)]);

/** The shortest audit retention accepted; the database's prune function enforces it too (migration 0007). */
export const AUDIT_RETENTION_FLOOR_DAYS = 30;

/** Request budgets per API instance when none is configured (docs/operations.md § Throttles). */
export const THROTTLE_DEFAULTS = {
  school: { perSecond: 100, burst: 200 },
  unauthenticated: { perSecond: 50, burst: 200 },
} as const;

const requestRate = () => z.coerce.number().check(z.positive(), z.lte(100_000));
const requestBurst = () => whole(1, 100_000);

const optionalUrl = () =>
  z.union([
    z.optional(z.url()),
    z.pipe(
      z.literal(''),
      z.transform(() => undefined),
    ),
  ]);

const optionalText = () => z.optional(z.string().check(z.minLength(1)));

const auditRetentionDays = () => z._default(whole(AUDIT_RETENTION_FLOOR_DAYS, 36_500), 730);

/**
 * Everything the service reads from its environment, validated once at cold start. Nothing below
 * the entry points reads `process.env`.
 */
export const ConfigSchema = /* @__PURE__ */ pureSchema(() =>
  z
    .object({
      MEDIA_BUCKET: z.string().check(z.minLength(3)),
      AWS_REGION: z._default(z.string(), 'us-east-1'),
      /** Endpoint the functions use to reach S3 (an emulator locally, unset in AWS). */
      MEDIA_S3_ENDPOINT: optionalUrl(),
      /** Endpoint that presigned URLs carry, when browsers reach S3 by another address. */
      MEDIA_S3_PUBLIC_ENDPOINT: optionalUrl(),
      MEDIA_S3_FORCE_PATH_STYLE: flag(),
      MEDIA_SQS_ENDPOINT: optionalUrl(),
      /** Where a new erasure or export is announced to its worker; unset, the sweeper starts it. */
      MEDIA_RIGHTS_QUEUE_URL: optionalUrl(),
      /** Endpoint of SNS (an emulator locally, unset in AWS). */
      MEDIA_SNS_ENDPOINT: optionalUrl(),
      /** The outbound events topic; each consumer's queue subscribes to it. */
      MEDIA_EVENTS_TOPIC_ARN: optionalText(),
      DATABASE_URL: optionalText(),
      /** Sign in to the database (RDS Proxy) with an IAM token: DATABASE_URL then carries no password. */
      MEDIA_DB_IAM_AUTH: flag(),
      MEDIA_PGLITE_DIR: optionalText(),
      MEDIA_JWT_SECRET: z.optional(z.string().check(z.minLength(16))),
      MEDIA_JWT_JWKS_URL: optionalUrl(),
      MEDIA_JWT_ISSUER: optionalText(),
      MEDIA_JWT_AUDIENCE: optionalText(),
      /** The longest life a token may declare (`exp - iat`); longer-lived tokens are refused. */
      MEDIA_JWT_MAX_TTL_SECONDS: z._default(whole(60, 30 * 86_400), 86_400),
      MEDIA_ALLOWED_ORIGINS: z.optional(z.string()),
      MEDIA_PROCESSING_LEASE_SECONDS: z._default(whole(10, 3600), 300),
      MEDIA_PENDING_GRACE_SECONDS: z._default(whole(0, 86_400), 900),
      /** Unfinished uploads a principal may hold at once; `_<PURPOSE>` variants override it per purpose. */
      MEDIA_MAX_PENDING_UPLOADS: z._default(pendingLimit(), 50),
      MEDIA_MAX_PENDING_UPLOADS_PROFILE: z.optional(pendingLimit()),
      MEDIA_MAX_PENDING_UPLOADS_ATTENDANCE: z.optional(pendingLimit()),
      MEDIA_MAX_PENDING_UPLOADS_TRAINING: z.optional(pendingLimit()),
      MEDIA_MAX_PENDING_UPLOADS_GENERAL: z.optional(pendingLimit()),
      MEDIA_TENANT_QUOTA_BYTES: z._default(whole(1), 500 * 1024 ** 3),
      /** Each student's and teacher's cap on what they uploaded (stored and reserved); admins and services have none. */
      MEDIA_PERSON_QUOTA_BYTES: z._default(whole(1), 2 * 1024 ** 3),
      /** At or above this declared size an upload must be multipart. */
      MEDIA_MULTIPART_THRESHOLD_BYTES: z._default(whole(5 * 1024 ** 2 + 1), 100 * 1024 ** 2),
      /** Bytes of each part (but the last) of a multipart upload; S3 wants 5 MiB at least. */
      MEDIA_MULTIPART_PART_BYTES: z._default(whole(5 * 1024 ** 2, 5 * 1024 ** 3), 16 * 1024 ** 2),
      /** How long a multipart upload may take; then the sweeper aborts it and its reservation ends. */
      MEDIA_MULTIPART_UPLOAD_SECONDS: z._default(whole(60, 7 * 86_400), 86_400),
      /** The largest video and its longest running time. */
      MEDIA_VIDEO_MAX_BYTES: z._default(whole(1), 2 * 1024 ** 3),
      MEDIA_VIDEO_MAX_SECONDS: z._default(z.coerce.number().check(z.gte(1)), 600),
      /** Where the processor finds ffprobe and ffmpeg (PATH locally); named, they win over the archive. */
      MEDIA_FFPROBE_PATH: optionalText(),
      MEDIA_FFMPEG_PATH: optionalText(),
      /** The video function's pinned tools, one gzipped tar unpacked into /tmp on first use (docs/large-media.md). */
      MEDIA_VIDEO_TOOLS_ARCHIVE: optionalText(),
      /** Wall-clock ceiling of one run of ffprobe or ffmpeg on an upload (probe and poster take at most 60 s of it). */
      MEDIA_VIDEO_TOOL_SECONDS: z._default(whole(1, 900), 600),
      /** Address space each run of ffprobe or ffmpeg may take; beyond it the video is refused (VIDEO_TOO_COMPLEX). */
      MEDIA_VIDEO_TOOL_MEMORY_MIB: z._default(whole(64, 8192), 1024),
      /** The function that probes and remuxes videos for the video function, by name; unset: done in this process. */
      MEDIA_VIDEO_TRANSFORM_FUNCTION: z.optional(z.string().check(z.minLength(1), z.maxLength(170))),
      /** Endpoint of the Lambda API (an emulator in tests, unset in AWS). */
      MEDIA_LAMBDA_ENDPOINT: optionalUrl(),
      /** Claims of one item before it is rejected instead of tried again (a crash or timeout each time). */
      MEDIA_PROCESSING_MAX_ATTEMPTS: z._default(whole(1, 100), 8),
      /** Where the processor forwards video items (their own queue and function); unset: it processes them itself. */
      MEDIA_VIDEO_QUEUE_URL: z.optional(z.url()),
      /** Where a ready image or poster is sent for the face stage (docs/imaging.md § Faces); unset: no stage. */
      MEDIA_FACE_QUEUE_URL: z.optional(z.url()),
      /** The side of the aligned face crops (`faces/N`), on the ArcFace five-point layout scaled to it. */
      MEDIA_FACE_CROP_SIZE: z._default(whole(64, 512), 112),
      /** The model weights and TensorFlow's `.wasm` files; unset: the installed packages' own (bundles set them). */
      MEDIA_FACE_MODEL_DIR: optionalText(),
      MEDIA_FACE_WASM_DIR: optionalText(),
      /** Database connections per process: one or two for a Lambda behind RDS Proxy, more for a long-lived server. */
      MEDIA_DB_POOL_SIZE: z._default(whole(1, 200), 2),
      /** How long a request waits for a free connection before answering 503. */
      MEDIA_DB_CONNECT_TIMEOUT_MS: z._default(whole(100, 60_000), 2_000),
      /** Budget of one statement, and of one lock wait (e.g. behind a school's counter row), before 503. */
      MEDIA_DB_STATEMENT_TIMEOUT_MS: z._default(whole(100, 600_000), 5_000),
      MEDIA_DB_LOCK_TIMEOUT_MS: z._default(whole(10, 600_000), 2_000),
      /** Days a purpose's media are kept after upload; unset keeps them (attendance: 400 by default). */
      MEDIA_RETENTION_DAYS_PROFILE: z.optional(retentionDays()),
      MEDIA_RETENTION_DAYS_ATTENDANCE: z._default(retentionDays(), 400),
      MEDIA_RETENTION_DAYS_TRAINING: z.optional(retentionDays()),
      MEDIA_RETENTION_DAYS_GENERAL: z.optional(retentionDays()),
      /** Days the access audit log is kept; the floor keeps a misconfiguration from wiping it. */
      MEDIA_AUDIT_RETENTION_DAYS: auditRetentionDays(),
      /** Requests a school may send per second to one API instance, and the burst above it (docs/operations.md § Throttles). */
      MEDIA_SCHOOL_REQUESTS_PER_SECOND: z._default(requestRate(), THROTTLE_DEFAULTS.school.perSecond),
      MEDIA_SCHOOL_REQUEST_BURST: z._default(requestBurst(), THROTTLE_DEFAULTS.school.burst),
      /** All requests without a valid token together, per API instance: a budget apart from every school's. */
      MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND: z._default(requestRate(), THROTTLE_DEFAULTS.unauthenticated.perSecond),
      MEDIA_UNAUTHENTICATED_REQUEST_BURST: z._default(requestBurst(), THROTTLE_DEFAULTS.unauthenticated.burst),
      /** CloudFront in front of the derivatives (docs/operations.md § CDN): its host name, no scheme. */
      MEDIA_CDN_DOMAIN: z.optional(z.string().check(z.regex(/^[a-z0-9.-]+$/i, 'a host name, no scheme or path'))),
      /** The id of the public key in the distribution's key group. */
      MEDIA_CDN_KEY_PAIR_ID: z.optional(z.string().check(z.regex(/^[A-Z0-9]+$/, 'a CloudFront public key id'))),
      /** Where the matching private key is kept (Secrets Manager), read once at cold start: never the key itself. */
      MEDIA_CDN_PRIVATE_KEY_SECRET_ARN: z.optional(z.string().check(z.startsWith('arn:'))),
      /** The distribution whose edge caches a delete invalidates. */
      MEDIA_CDN_DISTRIBUTION_ID: z.optional(z.string().check(z.regex(/^[A-Z0-9]+$/, 'a CloudFront distribution id'))),
    })
    .check(
      z.refine((env) => env.MEDIA_JWT_SECRET || env.MEDIA_JWT_JWKS_URL, {
        message: 'set MEDIA_JWT_JWKS_URL (AWS) or MEDIA_JWT_SECRET (local and tests)',
        path: ['MEDIA_JWT_JWKS_URL'],
      }),
      z.refine((env) => !env.MEDIA_JWT_JWKS_URL || (env.MEDIA_JWT_ISSUER && env.MEDIA_JWT_AUDIENCE), {
        // Identity-provider tokens are only ours when issuer and audience say so.
        message: 'MEDIA_JWT_JWKS_URL needs MEDIA_JWT_ISSUER and MEDIA_JWT_AUDIENCE',
        path: ['MEDIA_JWT_ISSUER'],
      }),
      z.refine(
        (env) => [env.MEDIA_CDN_DOMAIN, env.MEDIA_CDN_KEY_PAIR_ID, env.MEDIA_CDN_PRIVATE_KEY_SECRET_ARN].filter(Boolean).length % 3 === 0,
        {
          // Half a signer would hand out URLs the distribution refuses, or S3 URLs where CDN ones were meant.
          message: 'MEDIA_CDN_DOMAIN, MEDIA_CDN_KEY_PAIR_ID and MEDIA_CDN_PRIVATE_KEY_SECRET_ARN go together',
          path: ['MEDIA_CDN_DOMAIN'],
        },
      ),
      z.refine((env) => env.MEDIA_SCHOOL_REQUEST_BURST >= env.MEDIA_SCHOOL_REQUESTS_PER_SECOND, {
        // A burst below the rate would refuse a steady school below its own rate.
        message: 'MEDIA_SCHOOL_REQUEST_BURST must be at least MEDIA_SCHOOL_REQUESTS_PER_SECOND',
        path: ['MEDIA_SCHOOL_REQUEST_BURST'],
      }),
      z.refine((env) => env.MEDIA_UNAUTHENTICATED_REQUEST_BURST >= env.MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND, {
        message: 'MEDIA_UNAUTHENTICATED_REQUEST_BURST must be at least MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND',
        path: ['MEDIA_UNAUTHENTICATED_REQUEST_BURST'],
      }),
      z.refine((env) => env.DATABASE_URL || env.MEDIA_PGLITE_DIR, {
        message: 'set DATABASE_URL or MEDIA_PGLITE_DIR',
        path: ['DATABASE_URL'],
      }),
    ),
);

export interface Config {
  region: string;
  bucket: string;
  s3: { endpoint?: string; publicEndpoint?: string; forcePathStyle: boolean };
  sqs: { endpoint?: string; rightsJobsQueueUrl?: string };
  sns: { endpoint?: string; eventsTopicArn?: string };
  database: {
    url?: string;
    pgliteDir?: string;
    iamAuth: boolean;
    poolSize: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    lockTimeoutMs: number;
  };
  jwt: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string; maxTtlSeconds: number };
  cdn: {
    /** Derivative downloads as CloudFront signed URLs; absent: S3 presigned URLs for every variant. */
    signing?: { domain: string; keyPairId: string; privateKeySecretArn: string };
    /** Deletes invalidate the derivatives' paths in this distribution. */
    distributionId?: string;
  };
  allowedOrigins: string[];
  processing: {
    leaseSeconds: number;
    pendingGraceSeconds: number;
    maxAttempts: number;
    /** The video queue: set for the photo processor, which forwards videos there instead of processing them. */
    videoQueueUrl?: string;
  };
  faces: {
    /** Set where ready items are handed to the face stage (the processors). */
    queueUrl?: string;
    cropSize: number;
    modelDir?: string;
    wasmDir?: string;
  };
  limits: {
    /** Unfinished uploads a principal may hold at once, by the purpose of the upload being asked for. */
    maxPendingUploads: Record<Purpose, number>;
    tenantQuotaBytes: number;
    /** A student's or teacher's cap on what they uploaded. */
    personQuotaBytes: number;
    multipartThresholdBytes: number;
    multipartPartBytes: number;
    multipartUploadSeconds: number;
    videoMaxBytes: number;
    videoMaxSeconds: number;
  };
  throttle: {
    school: { perSecond: number; burst: number };
    unauthenticated: { perSecond: number; burst: number };
  };
  video: VideoToolsConfig & {
    /** The transform function the video function invokes (docs/large-media.md); absent, it transforms in its own process. */
    transform?: { functionName: string; lambdaEndpoint?: string };
  };
  retention: {
    /** Days each purpose's media are kept after upload; absent: kept until deleted. */
    mediaDays: Partial<Record<Purpose, number>>;
    auditDays: number;
  };
}

/** Where ffprobe and ffmpeg come from and what one run of them may take. */
export interface VideoToolsConfig {
  ffprobePath: string;
  ffmpegPath: string;
  archive?: string;
  toolSeconds: number;
  toolMemoryMiB: number;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    // A misconfigured function must fail loudly at cold start, not answer requests half-configured.
    throw new MediaError('INTERNAL', `invalid configuration: ${what}`);
  }
  const e = parsed.data;
  return {
    region: e.AWS_REGION,
    bucket: e.MEDIA_BUCKET,
    s3: { endpoint: e.MEDIA_S3_ENDPOINT, publicEndpoint: e.MEDIA_S3_PUBLIC_ENDPOINT, forcePathStyle: e.MEDIA_S3_FORCE_PATH_STYLE },
    sqs: { endpoint: e.MEDIA_SQS_ENDPOINT, rightsJobsQueueUrl: e.MEDIA_RIGHTS_QUEUE_URL },
    sns: { endpoint: e.MEDIA_SNS_ENDPOINT, eventsTopicArn: e.MEDIA_EVENTS_TOPIC_ARN },
    database: {
      url: e.DATABASE_URL,
      pgliteDir: e.MEDIA_PGLITE_DIR,
      iamAuth: e.MEDIA_DB_IAM_AUTH,
      poolSize: e.MEDIA_DB_POOL_SIZE,
      connectTimeoutMs: e.MEDIA_DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.MEDIA_DB_STATEMENT_TIMEOUT_MS,
      lockTimeoutMs: e.MEDIA_DB_LOCK_TIMEOUT_MS,
    },
    jwt: {
      secret: e.MEDIA_JWT_SECRET,
      jwksUrl: e.MEDIA_JWT_JWKS_URL,
      issuer: e.MEDIA_JWT_ISSUER,
      audience: e.MEDIA_JWT_AUDIENCE,
      maxTtlSeconds: e.MEDIA_JWT_MAX_TTL_SECONDS,
    },
    cdn: {
      signing:
        e.MEDIA_CDN_DOMAIN && e.MEDIA_CDN_KEY_PAIR_ID && e.MEDIA_CDN_PRIVATE_KEY_SECRET_ARN
          ? { domain: e.MEDIA_CDN_DOMAIN, keyPairId: e.MEDIA_CDN_KEY_PAIR_ID, privateKeySecretArn: e.MEDIA_CDN_PRIVATE_KEY_SECRET_ARN }
          : undefined,
      distributionId: e.MEDIA_CDN_DISTRIBUTION_ID,
    },
    allowedOrigins: (e.MEDIA_ALLOWED_ORIGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    processing: {
      leaseSeconds: e.MEDIA_PROCESSING_LEASE_SECONDS,
      pendingGraceSeconds: e.MEDIA_PENDING_GRACE_SECONDS,
      maxAttempts: e.MEDIA_PROCESSING_MAX_ATTEMPTS,
      videoQueueUrl: e.MEDIA_VIDEO_QUEUE_URL,
    },
    faces: {
      queueUrl: e.MEDIA_FACE_QUEUE_URL,
      cropSize: e.MEDIA_FACE_CROP_SIZE,
      modelDir: e.MEDIA_FACE_MODEL_DIR,
      wasmDir: e.MEDIA_FACE_WASM_DIR,
    },
    limits: {
      maxPendingUploads: Object.fromEntries(
        PURPOSES.map((p) => [p, e[`MEDIA_MAX_PENDING_UPLOADS_${p.toUpperCase() as Uppercase<Purpose>}`] ?? e.MEDIA_MAX_PENDING_UPLOADS]),
      ) as Record<Purpose, number>,
      tenantQuotaBytes: e.MEDIA_TENANT_QUOTA_BYTES,
      personQuotaBytes: e.MEDIA_PERSON_QUOTA_BYTES,
      multipartThresholdBytes: e.MEDIA_MULTIPART_THRESHOLD_BYTES,
      multipartPartBytes: e.MEDIA_MULTIPART_PART_BYTES,
      multipartUploadSeconds: e.MEDIA_MULTIPART_UPLOAD_SECONDS,
      videoMaxBytes: e.MEDIA_VIDEO_MAX_BYTES,
      videoMaxSeconds: e.MEDIA_VIDEO_MAX_SECONDS,
    },
    throttle: {
      school: { perSecond: e.MEDIA_SCHOOL_REQUESTS_PER_SECOND, burst: e.MEDIA_SCHOOL_REQUEST_BURST },
      unauthenticated: { perSecond: e.MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND, burst: e.MEDIA_UNAUTHENTICATED_REQUEST_BURST },
    },
    video: {
      ...videoTools(e),
      ...(e.MEDIA_VIDEO_TRANSFORM_FUNCTION
        ? { transform: { functionName: e.MEDIA_VIDEO_TRANSFORM_FUNCTION, lambdaEndpoint: e.MEDIA_LAMBDA_ENDPOINT } }
        : {}),
    },
    retention: {
      mediaDays: Object.fromEntries(
        PURPOSES.flatMap((p) => {
          const days = e[`MEDIA_RETENTION_DAYS_${p.toUpperCase() as Uppercase<Purpose>}`];
          return days === undefined || days === RETENTION_KEEP ? [] : [[p, days]];
        }),
      ) as Partial<Record<Purpose, number>>,
      auditDays: e.MEDIA_AUDIT_RETENTION_DAYS,
    },
  };
}

/**
 * The audit retention alone, for the migrate function: it records it in the database, whose prune
 * then never deletes younger rows whatever a caller passes (migration 0011).
 */
export function auditRetentionDaysOf(env: Record<string, string | undefined>): number {
  const parsed = auditRetentionDays().safeParse(env.MEDIA_AUDIT_RETENTION_DAYS);
  if (!parsed.success) throw new Error(`MEDIA_AUDIT_RETENTION_DAYS: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

// The transform function's own part of the configuration: the same fields as ConfigSchema's.
const VideoTransformSchema = /* @__PURE__ */ pureSchema(() => {
  const { shape } = ConfigSchema;
  return z.object({
    MEDIA_VIDEO_MAX_BYTES: shape.MEDIA_VIDEO_MAX_BYTES,
    MEDIA_VIDEO_MAX_SECONDS: shape.MEDIA_VIDEO_MAX_SECONDS,
    MEDIA_FFPROBE_PATH: shape.MEDIA_FFPROBE_PATH,
    MEDIA_FFMPEG_PATH: shape.MEDIA_FFMPEG_PATH,
    MEDIA_VIDEO_TOOLS_ARCHIVE: shape.MEDIA_VIDEO_TOOLS_ARCHIVE,
    MEDIA_VIDEO_TOOL_SECONDS: shape.MEDIA_VIDEO_TOOL_SECONDS,
    MEDIA_VIDEO_TOOL_MEMORY_MIB: shape.MEDIA_VIDEO_TOOL_MEMORY_MIB,
  });
});

function videoTools(e: z.infer<typeof VideoTransformSchema>): VideoToolsConfig {
  return {
    ffprobePath: e.MEDIA_FFPROBE_PATH ?? 'ffprobe',
    ffmpegPath: e.MEDIA_FFMPEG_PATH ?? 'ffmpeg',
    ...(e.MEDIA_VIDEO_TOOLS_ARCHIVE && !e.MEDIA_FFPROBE_PATH && !e.MEDIA_FFMPEG_PATH ? { archive: e.MEDIA_VIDEO_TOOLS_ARCHIVE } : {}),
    toolSeconds: e.MEDIA_VIDEO_TOOL_SECONDS,
    toolMemoryMiB: e.MEDIA_VIDEO_TOOL_MEMORY_MIB,
  };
}

/** The transform function's configuration: the tools and the limits, nothing else (it has no bucket, database or token). */
export interface VideoTransformConfig {
  video: VideoToolsConfig;
  limits: { videoMaxBytes: number; videoMaxSeconds: number };
}

export function loadVideoTransformConfig(env: Record<string, string | undefined>): VideoTransformConfig {
  const parsed = VideoTransformSchema.safeParse(env);
  if (!parsed.success) {
    const what = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new MediaError('INTERNAL', `invalid configuration: ${what}`);
  }
  const e = parsed.data;
  return { video: videoTools(e), limits: { videoMaxBytes: e.MEDIA_VIDEO_MAX_BYTES, videoMaxSeconds: e.MEDIA_VIDEO_MAX_SECONDS } };
}
