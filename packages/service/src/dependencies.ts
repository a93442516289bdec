import type { Kysely } from 'kysely';
import { createTokenVerifier, type Config, type TokenVerifier } from '@media/core';
import { AccessAuditLog, createDatabase, FaceRepository, MediaRepository, RightsRepository, type Database } from '@media/db';
import { MediaStorage, noEdgeCache, type CdnUrls, type EdgeInvalidation } from '@media/storage';
import { discardEvents, SnsEventPublisher, type EventPublisher } from './event-publisher';
import { RequestThrottle } from './request-throttle';
import { SqsSender } from './sqs-sender';
import { SqsVideoQueue, type VideoQueue } from './video-queue';
import { SqsFaceQueue, type FaceQueue } from './face-queue';
import { LambdaVideoTransformer, type VideoTransformer } from './video-transformer';
import { SqsRightsJobQueue, sweeperStartsJobs, type RightsJobQueue } from './rights-job-queue';

/** Everything a handler needs, built once at cold start from validated config. */
export interface Dependencies {
  config: Config;
  db: Kysely<Database>;
  media: MediaRepository;
  rights: RightsRepository;
  /** The face stage's rows and the school settings it reads (docs/imaging.md § Faces). */
  faces: FaceRepository;
  audit: AccessAuditLog;
  storage: MediaStorage;
  verifyToken: TokenVerifier;
  /** This instance's request budgets: per school, and one for requests without a valid token. */
  throttle: RequestThrottle;
  events: EventPublisher;
  /** Tells the worker of a new erasure or export, so it starts at once. */
  rightsJobs: RightsJobQueue;
  /** Derivative URLs through CloudFront; absent, S3 presigned URLs for every variant. */
  cdn?: CdnUrls;
  /** Invalidates purged derivatives at the CDN's edge (a no-op without a CDN). */
  edge: EdgeInvalidation;
  /** The video function's queue: set where videos are forwarded (the photo processor, the sweeper), absent where they are processed. */
  videoQueue?: VideoQueue;
  /** The face stage's queue: set where items become ready (the processors); absent, no stage runs. */
  faceQueue?: FaceQueue;
  /** The transform function the video function hands each video to; absent, the video is transformed in this process. */
  videoTransformer?: VideoTransformer;
}

export interface DependencyOverrides {
  db?: Kysely<Database>;
  storage?: MediaStorage;
  events?: EventPublisher;
  rightsJobs?: RightsJobQueue;
  /**
   * The CloudFront signer, built by the entry point's cold start once it has read the private key
   * from Secrets Manager (config.cdn.signing says where): nothing below reaches for secrets.
   */
  cdn?: CdnUrls;
  /** Built by the entry points that purge (media-api, the processor, the sweeper); none elsewhere. */
  edge?: EdgeInvalidation;
  /** Static credentials for emulators; AWS uses the function's role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export async function createDependencies(config: Config, overrides: DependencyOverrides = {}): Promise<Dependencies> {
  const db =
    overrides.db ??
    (await createDatabase({
      url: config.database.url,
      pgliteDir: config.database.pgliteDir,
      poolSize: config.database.poolSize,
      connectTimeoutMs: config.database.connectTimeoutMs,
      statementTimeoutMs: config.database.statementTimeoutMs,
      lockTimeoutMs: config.database.lockTimeoutMs,
      ...(config.database.iamAuth ? { iamAuth: { region: config.region } } : {}),
    }));
  const storage =
    overrides.storage ??
    new MediaStorage({
      bucket: config.bucket,
      region: config.region,
      endpoint: config.s3.endpoint,
      publicEndpoint: config.s3.publicEndpoint,
      forcePathStyle: config.s3.forcePathStyle,
      credentials: overrides.credentials,
    });
  const events =
    overrides.events ??
    (config.sns.eventsTopicArn
      ? new SnsEventPublisher(
          { region: config.region, endpoint: config.sns.endpoint, credentials: overrides.credentials },
          config.sns.eventsTopicArn,
        )
      : discardEvents);
  const sqsClientConfig = { region: config.region, endpoint: config.sqs.endpoint, credentials: overrides.credentials };
  const rightsJobs =
    overrides.rightsJobs ??
    (config.sqs.rightsJobsQueueUrl
      ? new SqsRightsJobQueue(new SqsSender(sqsClientConfig, config.sqs.rightsJobsQueueUrl))
      : sweeperStartsJobs);
  return {
    config,
    db,
    media: new MediaRepository(db),
    rights: new RightsRepository(db),
    faces: new FaceRepository(db),
    audit: new AccessAuditLog(db),
    storage,
    verifyToken: createTokenVerifier(config.jwt),
    throttle: new RequestThrottle(config.throttle),
    events,
    rightsJobs,
    cdn: overrides.cdn,
    edge: overrides.edge ?? noEdgeCache,
    videoQueue: config.processing.videoQueueUrl
      ? new SqsVideoQueue(new SqsSender(sqsClientConfig, config.processing.videoQueueUrl))
      : undefined,
    faceQueue: config.faces.queueUrl ? new SqsFaceQueue(new SqsSender(sqsClientConfig, config.faces.queueUrl)) : undefined,
    videoTransformer: config.video.transform
      ? new LambdaVideoTransformer(
          { region: config.region, endpoint: config.video.transform.lambdaEndpoint, credentials: overrides.credentials },
          config.video.transform.functionName,
        )
      : undefined,
  };
}
