import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MediaFunction, type FunctionRuntime } from './media-function';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from './queues';

/**
 * The face stage's time limit: a batch of a few photos at a second or two each once warm, and a cold
 * start that loads the models (2–5 s), with room for slow 12 MP decodes (docs/imaging.md § Faces).
 */
export const FACE_TIMEOUT = Duration.minutes(2);

/** Records per invocation: a few photos, so one slow photo holds few others back. */
export const FACE_BATCH_SIZE = 3;

/**
 * Containers at once: detection never delays `ready`, so a backlog may wait; each container holds
 * database connections and half a gigabyte of model and image.
 */
export const FACE_CONCURRENCY = 2;

export interface FacesProps {
  runtime: FunctionRuntime;
  /** The functions that hand ready items (or resend owed jobs, or re-queue after a consent) to the stage. */
  senders: MediaFunction[];
  removalPolicy: RemovalPolicy;
}

/**
 * The face stage (docs/imaging.md § Faces): its queue with a DLQ, and `detect-faces`, the only
 * function that carries face-api, its two networks and TensorFlow's WASM files.
 */
export class Faces extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly detector: MediaFunction;

  constructor(scope: Construct, id: string, props: FacesProps) {
    super(scope, id);
    const common = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, removalPolicy: props.removalPolicy };
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', { ...common, retentionPeriod: Duration.days(14) });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(FACE_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.detector = new MediaFunction(this, 'DetectFaces', {
      name: 'detect-faces',
      runtime: props.runtime,
      description: 'Ready photos and posters (via SQS) → faces detected and aligned, the blurred variant, crops where consent allows',
      // The models, the full image and a small copy: ~500–650 MB at peak; memory also buys cores.
      memorySize: 2048,
      timeout: FACE_TIMEOUT,
      reservedConcurrentExecutions: FACE_CONCURRENCY,
      withSharp: true,
      withFaceModels: true,
    });
    this.detector.addEventSource(
      new SqsEventSource(this.queue, { batchSize: FACE_BATCH_SIZE, reportBatchItemFailures: true, maxConcurrency: FACE_CONCURRENCY }),
    );

    for (const fn of props.senders) {
      fn.addEnvironment('MEDIA_FACE_QUEUE_URL', this.queue.queueUrl);
      // Sending only; the queue is SSE-SQS encrypted, so no KMS grant.
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }));
    }
  }
}
