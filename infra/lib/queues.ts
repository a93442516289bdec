import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueuesProps {
  /** The processor's timeout: a message stays invisible long enough for several tries of it. */
  processorTimeout: Duration;
  removalPolicy: RemovalPolicy;
}

/** After this many receives a message rests in its dead-letter queue instead of looping. */
export const MAX_RECEIVE_COUNT = 5;

/**
 * AWS's rule for SQS-triggered functions: the visibility timeout is at least six times the
 * function's timeout, so a batch retried inside the poller is not handed out twice.
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/**
 * The ingest queue (S3 ObjectCreated on incoming/ → process-upload) and the outbound events queue
 * (media.ready, media.rejected, media.deleted for other services), each with its own DLQ.
 */
export class Queues extends Construct {
  readonly ingest: sqs.Queue;
  readonly ingestDeadLetters: sqs.Queue;
  readonly events: sqs.Queue;
  readonly eventsDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    const common = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: props.removalPolicy,
    };

    this.ingestDeadLetters = new sqs.Queue(this, 'IngestDeadLetters', { ...common, retentionPeriod: Duration.days(14) });
    this.ingest = new sqs.Queue(this, 'Ingest', {
      ...common,
      visibilityTimeout: Duration.seconds(props.processorTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.ingestDeadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    this.eventsDeadLetters = new sqs.Queue(this, 'EventsDeadLetters', { ...common, retentionPeriod: Duration.days(14) });
    this.events = new sqs.Queue(this, 'Events', {
      ...common,
      retentionPeriod: Duration.days(14),
      deadLetterQueue: { queue: this.eventsDeadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
