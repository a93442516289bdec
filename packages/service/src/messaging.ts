import type { Config } from '@media/core';
import { discardEvents, SnsEventPublisher, type EventPublisher } from './event-publisher';
import { SqsFaceQueue, type FaceQueue } from './face-queue';
import { SqsRightsJobQueue, sweeperStartsJobs, type RightsJobQueue } from './rights-job-queue';
import { SqsSender } from './sqs-sender';
import { SqsVideoQueue, type VideoQueue } from './video-queue';

/** What the service sends: outbound events (SNS), and messages to its own queues (SQS). */
export interface Messaging {
  events: EventPublisher;
  /** Tells the worker of a new erasure or export, so it starts at once. */
  rightsJobs: RightsJobQueue;
  videoQueue: VideoQueue | undefined;
  faceQueue: FaceQueue | undefined;
}

/**
 * The senders the configuration names, each falling back as before where it names none: events
 * dropped, rights jobs left to the sweeper's next run, no video or face queue. The SDK clients
 * load on the first message (event-publisher.ts, sqs-sender.ts).
 */
export function messagingOf(config: Config, credentials?: { accessKeyId: string; secretAccessKey: string }): Messaging {
  const sqsClientConfig = { region: config.region, endpoint: config.sqs.endpoint, credentials };
  const queue = (url: string) => new SqsSender(sqsClientConfig, url);
  return {
    events: config.sns.eventsTopicArn
      ? new SnsEventPublisher({ region: config.region, endpoint: config.sns.endpoint, credentials }, config.sns.eventsTopicArn)
      : discardEvents,
    rightsJobs: config.sqs.rightsJobsQueueUrl ? new SqsRightsJobQueue(queue(config.sqs.rightsJobsQueueUrl)) : sweeperStartsJobs,
    videoQueue: config.processing.videoQueueUrl ? new SqsVideoQueue(queue(config.processing.videoQueueUrl)) : undefined,
    faceQueue: config.faces.queueUrl ? new SqsFaceQueue(queue(config.faces.queueUrl)) : undefined,
  };
}
