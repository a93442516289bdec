import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_SUBSCRIPTIONS, filterPolicyOf, type Service } from '@media/core';
import { pascal } from './api';

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

export interface ConsumerQueue {
  queue: sqs.Queue;
  deadLetters: sqs.Queue;
  subscription: sns.Subscription;
}

/**
 * The ingest queue (S3 ObjectCreated on incoming/ → process-upload) with its DLQ, the video queue
 * (videos forwarded by the processor → process-video) with its DLQ, and the outbound
 * events: one SNS topic, and per consumer service a queue with its own DLQ, subscribed with raw
 * delivery and a filter on the message attributes (`audience`, `purpose`) that lets through only
 * what that service may read (packages/core/src/event-consumers.ts, docs/events.md).
 */
export class Queues extends Construct {
  readonly ingest: sqs.Queue;
  readonly ingestDeadLetters: sqs.Queue;
  /** Videos, forwarded by the processor and the sweeper to the video function, with their DLQ. */
  readonly videos: sqs.Queue;
  readonly videoDeadLetters: sqs.Queue;
  readonly eventsTopic: sns.Topic;
  readonly consumers: Partial<Record<Service, ConsumerQueue>> = {};

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

    this.videoDeadLetters = new sqs.Queue(this, 'VideoDeadLetters', { ...common, retentionPeriod: Duration.days(14) });
    this.videos = new sqs.Queue(this, 'Videos', {
      ...common,
      visibilityTimeout: Duration.seconds(props.processorTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.videoDeadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
    });

    // Events name children: encrypted at rest with the AWS-managed SNS key (publishers need no
    // KMS grant for it), and only reachable over TLS.
    this.eventsTopic = new sns.Topic(this, 'Events', {
      displayName: 'Media service outbound events',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns'),
    });

    for (const consumer of EVENT_SUBSCRIPTIONS) {
      const name = pascal(consumer.consumer);
      const deadLetters = new sqs.Queue(this, `${name}DeadLetters`, { ...common, retentionPeriod: Duration.days(14) });
      const queue = new sqs.Queue(this, `${name}Events`, {
        ...common,
        retentionPeriod: Duration.days(14),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
      });
      const filterPolicy = Object.fromEntries(
        Object.entries(filterPolicyOf(consumer)).map(([attribute, allowlist]) => [
          attribute,
          sns.SubscriptionFilter.stringFilter({ allowlist }),
        ]),
      );
      const subscription = this.eventsTopic.addSubscription(
        new subscriptions.SqsSubscription(queue, { rawMessageDelivery: true, filterPolicy }),
      );
      this.consumers[consumer.consumer] = { queue, deadLetters, subscription };
    }
  }
}
