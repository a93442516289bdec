import type { Kysely } from 'kysely';
import { createTokenVerifier, MediaError, type Config, type TokenVerifier } from '@media/core';
import { AccessAuditLog, createDatabase, FaceRepository, MediaRepository, RightsRepository, type Database } from '@media/db';
import { MediaStorage, noEdgeCache, type CdnUrls, type EdgeInvalidation } from '@media/storage';
import { discardEvents, type EventPublisher } from './event-publisher';
import { messagingOf, type Messaging } from './messaging';
import { RequestThrottle } from './request-throttle';
import type { VideoQueue } from './video-queue';
import type { FaceQueue } from './face-queue';
import type { VideoTransformer } from './video-transformer';
import { sweeperStartsJobs, type RightsJobQueue } from './rights-job-queue';

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

export interface DependencyOverrides extends Partial<Messaging> {
  db?: Kysely<Database>;
  storage?: MediaStorage;
  /**
   * The CloudFront signer, built by the entry point's cold start once it has read the private key
   * from Secrets Manager (config.cdn.signing says where): nothing below reaches for secrets.
   */
  cdn?: CdnUrls;
  /** Built by the entry points that purge (media-api, the processor, the sweeper); none elsewhere. */
  edge?: EdgeInvalidation;
  /**
   * Built by the video function's entry point alone (functions/shared/video-transform.ts): the
   * Lambda client's module is then in no other bundle, where it cost init time for nothing.
   */
  videoTransformer?: VideoTransformer;
  /** Static credentials for emulators; AWS uses the function's role. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * The dependency bag with the messaging its configuration names (events topic, rights-jobs, video
 * and face queues): what the local stack and the tests build.
 */
export async function createDependencies(config: Config, overrides: DependencyOverrides = {}): Promise<Dependencies> {
  return assembleDependencies(config, { ...messagingOf(config, overrides.credentials), ...overrides });
}

/**
 * Where nothing publishes, nothing may: a function built without a publisher (request-upload and
 * get-download never publish) fails loudly should it ever try, rather than drop an event.
 */
const noPublisherHere: EventPublisher = {
  publish: async () => {
    throw new MediaError('INTERNAL', 'this function was built without an events publisher');
  },
};

/**
 * The dependency bag with only the messaging passed in: a Lambda's entry point adds the SNS and SQS
 * senders where it uses them (functions/shared/messaging.ts), so the functions that never send
 * bundle neither client. Without them: events refused (or dropped where no topic is configured),
 * rights jobs left to the sweeper's next run, no video or face queue.
 */
export async function assembleDependencies(config: Config, overrides: DependencyOverrides = {}): Promise<Dependencies> {
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
    events: overrides.events ?? (config.sns.eventsTopicArn ? noPublisherHere : discardEvents),
    rightsJobs: overrides.rightsJobs ?? sweeperStartsJobs,
    cdn: overrides.cdn,
    edge: overrides.edge ?? noEdgeCache,
    videoQueue: overrides.videoQueue,
    faceQueue: overrides.faceQueue,
    videoTransformer: overrides.videoTransformer,
  };
}
