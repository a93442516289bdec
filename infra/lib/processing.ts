import { Duration, Size } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MediaFunction, type FunctionRuntime } from './media-function';

/**
 * The processor's time limit; the ingest queue's visibility timeout is derived from it. Lambda's
 * longest: a batch may hold several videos of up to 2 GiB (each streamed from S3, remuxed and
 * written back, some tens of seconds apiece), processed one after the other.
 */
export const PROCESSOR_TIMEOUT = Duration.minutes(15);

/** /tmp for one video at a time (the transform function's): the upload and its clean copy (2 × 2 GiB) and room to spare. */
export const PROCESSOR_EPHEMERAL_STORAGE = Size.gibibytes(6);

/** Records per invocation: a few photos, so one slow image does not hold many others back. */
export const PROCESSOR_BATCH_SIZE = 5;

/** One video per invocation: a hard clip holds up nothing but itself. */
export const VIDEO_BATCH_SIZE = 1;

export interface ProcessingProps {
  runtime: FunctionRuntime;
  ingest: sqs.IQueue;
  /** Where the processor and the sweeper forward videos; the video function's event source. */
  videos: sqs.IQueue;
  /** The processor's reserved concurrency, and the event source's ceiling to match it. */
  concurrency: number;
  sweeperRateMinutes: number;
}

/**
 * The work behind the API: `process-upload` drains the ingest queue in batches (only the failed
 * records of a batch come back) and forwards videos to `process-video`, which takes them one at a
 * time from their own queue; the `sweeper` runs on a schedule to finish what the event path
 * left behind.
 */
export class Processing extends Construct {
  readonly processor: MediaFunction;
  readonly videoProcessor: MediaFunction;
  readonly videoTransform: MediaFunction;
  readonly sweeper: MediaFunction;
  readonly schedule: events.Rule;
  readonly retentionSchedule: events.Rule;

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    this.processor = new MediaFunction(this, 'ProcessUpload', {
      name: 'process-upload',
      runtime: props.runtime,
      description: 'S3 ObjectCreated (via SQS) → validate the bytes, write derivatives with sharp; videos forwarded to the video queue',
      // libvips uses every core it is given; memory buys cores on Lambda.
      memorySize: 2048,
      timeout: PROCESSOR_TIMEOUT,
      ephemeralStorageSize: PROCESSOR_EPHEMERAL_STORAGE,
      // A ceiling on sharp's concurrent work and on database connections, whatever the backlog.
      reservedConcurrentExecutions: props.concurrency,
      withSharp: true,
      environment: { MEDIA_VIDEO_QUEUE_URL: props.videos.queueUrl },
    });
    this.processor.addEventSource(
      new SqsEventSource(props.ingest, {
        batchSize: PROCESSOR_BATCH_SIZE,
        reportBatchItemFailures: true,
        // Below the reserved concurrency the poller never gets throttled into needless retries.
        maxConcurrency: props.concurrency,
      }),
    );

    // The parsers of a video run with least power (docs/large-media.md § Least power): no VPC, no
    // database, no configuration of the service, and a role that grants nothing but its own logs.
    // It reads and writes only through the presigned URLs the video function hands it.
    this.videoTransform = new MediaFunction(this, 'TransformVideo', {
      name: 'transform-video',
      runtime: props.runtime,
      description: 'Invoked by process-video with presigned URLs → a video probed and remuxed with ffmpeg, its poster frame taken',
      // A video never sits in memory (ffmpeg works on files in /tmp); memory buys the CPU the tools use.
      memorySize: 2048,
      timeout: PROCESSOR_TIMEOUT,
      ephemeralStorageSize: PROCESSOR_EPHEMERAL_STORAGE,
      // No sharp: no image is decoded here (the poster frame goes through sharp in the video function).
      withVideoTools: true,
      isolated: true,
      environment: videoLimitsEnvironment(props.runtime.environment),
    });

    // Videos apart: their own queue and function, one per invocation; the transform does the parsing.
    this.videoProcessor = new MediaFunction(this, 'ProcessVideo', {
      name: 'process-video',
      runtime: props.runtime,
      description:
        'Videos forwarded by process-upload (via SQS, one at a time) → transformed by transform-video, poster variants with sharp',
      // It waits for the transform as long as that may take; the poster frame goes through sharp here.
      memorySize: 2048,
      timeout: PROCESSOR_TIMEOUT,
      reservedConcurrentExecutions: props.concurrency,
      withSharp: true,
      environment: { MEDIA_VIDEO_TRANSFORM_FUNCTION: this.videoTransform.functionName },
    });
    // That one function, unqualified: no version or alias, no other function.
    this.videoProcessor.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.videoTransform.functionArn] }),
    );
    this.videoProcessor.addEventSource(
      new SqsEventSource(props.videos, { batchSize: VIDEO_BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: props.concurrency }),
    );

    this.sweeper = new MediaFunction(this, 'Sweeper', {
      name: 'sweeper',
      runtime: props.runtime,
      description:
        'Scheduled: expires abandoned uploads, processes late ones, sends owed events, purges deleted items, erasures, exports, retention',
      memorySize: 2048,
      // Runs may overlap (every step is a conditional update or an idempotent delete). It processes
      // late photos as the processor does and forwards late videos to the video queue.
      timeout: PROCESSOR_TIMEOUT,
      ephemeralStorageSize: PROCESSOR_EPHEMERAL_STORAGE,
      withSharp: true,
      environment: { MEDIA_VIDEO_QUEUE_URL: props.videos.queueUrl },
    });
    this.schedule = new events.Rule(this, 'SweeperSchedule', {
      description: 'Runs the media sweeper',
      schedule: events.Schedule.rate(Duration.minutes(props.sweeperRateMinutes)),
      targets: [new targets.LambdaFunction(this.sweeper, { retryAttempts: 2 })],
    });
    // Once a day, the same function deletes what outlived its purpose's retention (bounded batches).
    this.retentionSchedule = new events.Rule(this, 'RetentionSchedule', {
      description: 'Runs the daily retention run of the media service',
      schedule: events.Schedule.cron({ minute: '30', hour: '2' }),
      targets: [
        new targets.LambdaFunction(this.sweeper, { retryAttempts: 2, event: events.RuleTargetInput.fromObject({ task: 'retention' }) }),
      ],
    });
  }
}

/** The video settings of the shared configuration, the only ones the transform function reads. */
function videoLimitsEnvironment(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([key]) => key.startsWith('MEDIA_VIDEO_')));
}
