import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, type Config } from '@media/core';
import { migrateToLatest, pgliteDirIn } from '@media/db';
import { createDependencies, type Dependencies } from '@media/service';
import type { SweepReport } from '@media/service/processing';
import type { RetentionReport } from '@media/functions/sweeper';
import { incomingKey } from '@media/storage';
import { DEFAULT_LOCAL_SECRET, mintDevToken } from './dev-token';
import { EventPump } from './event-pump';
import { lambdaContext } from './lambda-context';
import { artifactFunctions, sourceFunctions, type LocalFunctions } from './local-functions';
import { startHttpServer } from './http-server';
import { originMatcher } from './origins';
import { LOCAL_S3_CREDENTIALS, startS3Server } from './s3-server';
import { startSqsServer, type SqsServer } from './sqs-server';
import { FAVICON_SVG, uploadPage } from './upload-page';
import { rightsPage } from './rights-page';
import { eventLogger, loggingPending } from './upload-log';

export interface LocalStackOptions {
  /** Where S3 objects and the PGlite database live; survives restarts. */
  dataDir: string;
  host?: string;
  port?: number;
  s3Port?: number;
  sqsPort?: number;
  /** Use this PostgreSQL instead of PGlite (tests use the machine's server). */
  databaseUrl?: string;
  /**
   * Parity mode: the URL the bundles sign in with, as the functions do in AWS (the DML-only app
   * role); by default `databaseUrl`. The stack itself migrates through `databaseUrl`.
   */
  appDatabaseUrl?: string;
  jwtSecret?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  allowedOrigins?: string[];
  bucket?: string;
  /** Extra config values (limits, leases) as environment variables. */
  env?: Record<string, string | undefined>;
  /**
   * Run the bundles `cdk synth` builds (each in a process of its own) instead of the TypeScript
   * sources: what a deploy ships, end to end. Needs `databaseUrl`: bundles carry no PGlite.
   */
  artifacts?: boolean;
  /** How often the sweeper runs, as its schedule does in AWS; 0 turns it off. Default 30. */
  sweepEverySeconds?: number;
  /**
   * Feed the rights-jobs queue to the sweeper function, so erasures and exports start at once, as in
   * AWS (default). Off, they wait in the queue (tests that drive a job by hand).
   */
  runRightsJobs?: boolean;
  /**
   * Run the face stage (docs/imaging.md § Faces): ready photos and posters go to the face queue, and
   * detect-faces takes them one at a time, as its own event source does in AWS. Default on; off
   * (`MEDIA_FACES=off` for `npm start`), nothing is handed to it and no face is detected.
   */
  faces?: boolean;
  /** Tests: also subscribe `queues.eventsTap` to every full-audience event (AWS has no such queue). */
  tapEvents?: boolean;
  log?: (line: string) => void;
  /** Told one line per state change of every upload (pending, ready, rejected, deleted): `npm start` at `info`. */
  logUploads?: (line: string) => void;
  /** Told when each start-up phase begins, so a slow start can name what was slow. */
  onPhase?: (phase: string) => void;
}

export interface LocalStack {
  apiUrl: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  bucket: string;
  queues: SqsServer['queues'];
  eventsTopicArn: string;
  config: Config;
  deps: Dependencies;
  /** `sources` (the TypeScript, in process) or `artifacts` (the synthesized bundles). */
  functionsMode: LocalFunctions['mode'];
  pump: EventPump;
  /** The video queue's pump (batches of one), into the video function. */
  videoPump: EventPump;
  /** The rights-jobs queue's poller (running unless `runRightsJobs` is false). */
  rightsPump: EventPump;
  /** The face queue's poller, into detect-faces (running unless `faces` is false). */
  facePump: EventPump;
  sqs: SQSClient;
  /** One sweeper run now (the same function the schedule calls). */
  sweep(): Promise<SweepReport>;
  /** One retention run now (what the daily schedule does in AWS). */
  retention(): Promise<RetentionReport>;
  stop(): Promise<void>;
}

/**
 * The whole service on one machine, no cloud: s3rver, fauxqs, PGlite (or a given PostgreSQL),
 * the event pump and the HTTP API, wired to the same handlers the Lambdas run.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => {});
  const phase = options.onPhase ?? (() => {});
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  const bucket = options.bucket ?? 'media-local';
  const faces = options.faces ?? true;
  const port = options.port ?? 3000;
  const defaultOrigins = [`http://localhost:*`, `http://127.0.0.1:*`];
  const allowedOrigins = options.allowedOrigins?.length ? options.allowedOrigins : defaultOrigins;

  phase('starting the S3 server (s3rver)');
  const s3 = await startS3Server({ directory: join(dataDir, 's3'), host, port: options.s3Port ?? 0, bucket, allowedOrigins });
  phase('starting the SQS server (fauxqs)');
  const sqsServer = await startSqsServer({
    host,
    port: options.sqsPort ?? 0,
    region: 'us-east-1',
    tapEvents: options.tapEvents,
    logEvents: !!options.logUploads,
  });

  if (options.artifacts && !options.databaseUrl) {
    throw new Error(
      'the local stack runs the synthesized bundles only against a PostgreSQL server: set DATABASE_URL (bundles carry no PGlite)',
    );
  }
  const environment: Record<string, string | undefined> = {
    MEDIA_BUCKET: bucket,
    AWS_REGION: 'us-east-1',
    MEDIA_S3_ENDPOINT: s3.endpoint,
    MEDIA_S3_FORCE_PATH_STYLE: 'true',
    MEDIA_SQS_ENDPOINT: sqsServer.endpoint,
    MEDIA_SNS_ENDPOINT: sqsServer.endpoint,
    MEDIA_EVENTS_TOPIC_ARN: sqsServer.eventsTopicArn,
    MEDIA_VIDEO_QUEUE_URL: sqsServer.queues.video,
    MEDIA_RIGHTS_QUEUE_URL: sqsServer.queues.rightsJobs.url,
    // Unset, no function hands anything to the face stage.
    MEDIA_FACE_QUEUE_URL: faces ? sqsServer.queues.faces.url : undefined,
    DATABASE_URL: options.databaseUrl,
    MEDIA_PGLITE_DIR: options.databaseUrl ? undefined : pgliteDirIn(dataDir),
    MEDIA_JWT_SECRET: options.jwtSecret ?? DEFAULT_LOCAL_SECRET,
    MEDIA_JWT_ISSUER: options.jwtIssuer,
    MEDIA_JWT_AUDIENCE: options.jwtAudience,
    MEDIA_ALLOWED_ORIGINS: allowedOrigins.join(','),
    // One long-lived process serves every request: a bigger pool than a Lambda's.
    MEDIA_DB_POOL_SIZE: '10',
    MEDIA_DB_CONNECT_TIMEOUT_MS: '5000',
    ...options.env,
  };
  const config = loadConfig(environment);
  phase(options.databaseUrl ? 'connecting to PostgreSQL' : 'opening PGlite');
  const deps = await createDependencies(config, { credentials: LOCAL_S3_CREDENTIALS });
  phase(options.databaseUrl ? 'migrating PostgreSQL' : 'migrating PGlite');
  await migrateToLatest(deps.db);

  phase(options.artifacts ? 'synthesizing and starting the function bundles' : 'loading the functions');
  const functions = options.artifacts
    ? await artifactFunctions({
        // What CloudFormation fills in, and the local identity provider (an HS256 secret) in place of the JWKS one.
        deployTime: {
          MEDIA_BUCKET: bucket,
          DATABASE_URL: options.appDatabaseUrl ?? options.databaseUrl,
          MEDIA_DB_IAM_AUTH: 'false',
          MEDIA_EVENTS_TOPIC_ARN: sqsServer.eventsTopicArn,
          MEDIA_VIDEO_QUEUE_URL: sqsServer.queues.video,
          MEDIA_RIGHTS_QUEUE_URL: sqsServer.queues.rightsJobs.url,
          MEDIA_FACE_QUEUE_URL: environment.MEDIA_FACE_QUEUE_URL,
          MEDIA_ALLOWED_ORIGINS: environment.MEDIA_ALLOWED_ORIGINS,
          MEDIA_JWT_JWKS_URL: undefined,
          MEDIA_JWT_ISSUER: options.jwtIssuer,
          MEDIA_JWT_AUDIENCE: options.jwtAudience,
        },
        local: {
          ...environment,
          MEDIA_PGLITE_DIR: undefined,
          // Only the functions whose template names the video queue forward to it (never the video function);
          // likewise the face queue.
          MEDIA_VIDEO_QUEUE_URL: undefined,
          MEDIA_FACE_QUEUE_URL: undefined,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
          POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
          POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
        },
        log,
      })
    : await sourceFunctions(deps);

  const sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsServer.endpoint, credentials: LOCAL_S3_CREDENTIALS });
  const pump = new EventPump({
    sqs,
    queueUrl: sqsServer.queues.ingest,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-ingest',
    handler: functions.processUpload,
    onError: (error) => log(`event pump: ${(error as Error).message}`),
  });
  // Videos on their own queue, one at a time, as the video function's event source takes them.
  const videoPump = new EventPump({
    sqs,
    queueUrl: sqsServer.queues.video,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-video',
    handler: functions.processVideo,
    functionName: 'process-video',
    batchSize: 1,
    onError: (error) => log(`video pump: ${(error as Error).message}`),
  });
  s3.onEvent((record) => {
    pump.publishS3Record(record).catch((error) => log(`could not queue S3 event: ${(error as Error).message}`));
  });

  phase('handing unfinished uploads back to the processor');
  // fauxqs keeps messages in memory, so after a restart the queue is empty: hand every unfinished
  // upload whose object arrived back to the processor. Nothing of ours processes while we start;
  // a row whose object is not in our bucket is not ours (tests share one database) and stays as is.
  // Batches of 500, and only rows whose POST could still have been used: older ones are the sweeper's.
  for (let after: string | undefined, batch = [] as Awaited<ReturnType<typeof deps.media.listUnfinished>>; ; ) {
    batch = await deps.media.listUnfinished({ graceSeconds: config.processing.pendingGraceSeconds, after, limit: 500 });
    for (const row of batch) {
      const key = incomingKey(row.tenant, row.id);
      const head = await deps.storage.head(key);
      if (head) {
        if (row.status === 'processing') await deps.media.releaseClaim(row.id);
        await pump.publishS3Record({ eventName: 'ObjectCreated:Post', s3: { bucket: { name: bucket }, object: { key, size: head.size } } });
      }
    }
    if (batch.length < 500) break;
    after = batch.at(-1)!.id;
  }
  pump.start();
  videoPump.start();
  const rightsPump = new EventPump({
    sqs,
    queueUrl: sqsServer.queues.rightsJobs.url,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-rights-jobs',
    handler: functions.rightsJobs,
    functionName: 'sweeper',
    batchSize: 1,
    onError: (error) => log(`rights jobs: ${(error as Error).message}`),
  });
  if (options.runRightsJobs ?? true) rightsPump.start();
  // Faces one photo at a time, beside the uploads' pump: detection never holds an upload back.
  const facePump = new EventPump({
    sqs,
    queueUrl: sqsServer.queues.faces.url,
    queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-faces',
    handler: functions.detectFaces,
    functionName: 'detect-faces',
    batchSize: 1,
    onError: (error) => log(`face stage: ${(error as Error).message}`),
  });
  if (faces) facePump.start();
  const logPump =
    options.logUploads && sqsServer.queues.eventsLog
      ? new EventPump({
          sqs,
          queueUrl: sqsServer.queues.eventsLog,
          queueArn: 'arn:aws:sqs:us-east-1:000000000000:media-events-log',
          handler: eventLogger(options.logUploads),
        })
      : undefined;
  logPump?.start();

  const sweep = () => functions.sweeper({}, lambdaContext('sweeper', 300_000));
  const retention = () => functions.retention({ task: 'retention' }, lambdaContext('sweeper', 300_000));
  const sweepEverySeconds = options.sweepEverySeconds ?? 30;
  let sweeping: Promise<unknown> = Promise.resolve();
  let sweepTimer: NodeJS.Timeout | undefined;
  if (sweepEverySeconds > 0) {
    // Like a schedule with reserved concurrency 1: a run never starts while the last one is busy.
    const tick = () => {
      // The daily retention run of AWS is part of every sweep here: it is bounded and idempotent.
      sweeping = sweep()
        .then(retention)
        .catch((error) => log(`sweeper: ${(error as Error).message}`))
        .finally(() => {
          if (sweepTimer) sweepTimer = setTimeout(tick, sweepEverySeconds * 1000);
        });
    };
    sweepTimer = setTimeout(tick, 0);
  }

  phase('starting the HTTP API');
  const isAllowedOrigin = originMatcher(allowedOrigins);
  const demoToken = await mintDevToken(
    { role: 'teacher', tenant: 'school-1', sub: 't-1', classrooms: ['c-1'], issuer: options.jwtIssuer, audience: options.jwtAudience },
    options.jwtSecret ?? DEFAULT_LOCAL_SECRET,
  );
  // The rights page acts as the school's administrator.
  const adminToken = await mintDevToken(
    { role: 'admin', tenant: 'school-1', sub: 'a-1', issuer: options.jwtIssuer, audience: options.jwtAudience },
    options.jwtSecret ?? DEFAULT_LOCAL_SECRET,
  );
  const http = await startHttpServer({
    host,
    port,
    functions: options.logUploads
      ? { ...functions.api, 'request-upload': loggingPending(functions.api['request-upload'], options.logUploads) }
      : functions.api,
    isAllowedOrigin,
    staticRoutes: {
      '/': () => ({
        contentType: 'text/html; charset=utf-8',
        body: uploadPage({ token: demoToken, multipartThresholdBytes: config.limits.multipartThresholdBytes }),
      }),
      '/rights': () => ({ contentType: 'text/html; charset=utf-8', body: rightsPage({ token: adminToken }) }),
      '/favicon.svg': () => ({ contentType: 'image/svg+xml', body: FAVICON_SVG }),
      '/favicon.ico': () => ({ contentType: 'image/svg+xml', body: FAVICON_SVG }),
    },
  });

  return {
    apiUrl: http.url,
    s3Endpoint: s3.endpoint,
    sqsEndpoint: sqsServer.endpoint,
    bucket,
    queues: sqsServer.queues,
    eventsTopicArn: sqsServer.eventsTopicArn,
    config,
    deps,
    functionsMode: functions.mode,
    pump,
    videoPump,
    rightsPump,
    facePump,
    sqs,
    sweep,
    retention,
    async stop() {
      clearTimeout(sweepTimer);
      sweepTimer = undefined;
      await http.stop();
      await sweeping;
      // Its queues stop with it: nothing is lost by ending the long poll now.
      await Promise.all([
        pump.stop({ abandonPoll: true }),
        videoPump.stop({ abandonPoll: true }),
        rightsPump.stop({ abandonPoll: true }),
        facePump.stop({ abandonPoll: true }),
      ]);
      await logPump?.stop({ abandonPoll: true });
      await functions.stop();
      await sqsServer.stop();
      await s3.stop();
      await deps.db.destroy();
      sqs.destroy();
    },
  };
}
