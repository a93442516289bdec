import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { MediaFunction } from './media-function';
import { MAX_RECEIVE_COUNT, VISIBILITY_TIMEOUT_FACTOR } from './queues';

export interface RightsJobsProps {
  /** media-api: records an erasure or export and announces it here. */
  requester: MediaFunction;
  /** The sweeper function: runs each announced job (and re-announces a long erasure's rest). */
  worker: MediaFunction;
  workerTimeout: Duration;
  removalPolicy: RemovalPolicy;
}

/**
 * The rights-jobs queue: one message per new erasure or export, so its worker starts it within
 * seconds of the request rather than at the next sweep (docs/privacy.md § Jobs start at once). The
 * scheduled sweeper resumes only jobs left idle, which a message lost to the DLQ would be.
 */
export class RightsJobs extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: RightsJobsProps) {
    super(scope, id);
    const common = { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, removalPolicy: props.removalPolicy };
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', { ...common, retentionPeriod: Duration.days(14) });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...common,
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    for (const fn of [props.requester, props.worker]) {
      fn.addEnvironment('MEDIA_RIGHTS_QUEUE_URL', this.queue.queueUrl);
      this.queue.grantSendMessages(fn);
    }
    // One job per invocation: an export streams a whole ZIP file, an erasure runs many batches.
    props.worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));
  }
}
