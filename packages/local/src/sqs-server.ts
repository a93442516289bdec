import { startFauxqs } from 'fauxqs';
import { consumerQueueName, EVENT_SUBSCRIPTIONS, filterPolicyOf, type Service } from '@media/core';

export const QUEUE_NAMES = {
  ingest: 'media-ingest',
  ingestDlq: 'media-ingest-dlq',
  video: 'media-video',
  videoDlq: 'media-video-dlq',
  rightsJobs: 'media-rights-jobs',
  faces: 'media-faces',
} as const;

export const EVENTS_TOPIC_NAME = 'media-events';

export const MAX_RECEIVE_COUNT = 5;

export interface ConsumerQueue {
  url: string;
  dlq: string;
}

export interface SqsServer {
  endpoint: string;
  queues: {
    ingest: string;
    ingestDlq: string;
    /** Videos, forwarded by the processor to the video function (one at a time). */
    video: string;
    videoDlq: string;
    /** New erasures and exports, one message each, for the sweeper function (as in AWS). */
    rightsJobs: ConsumerQueue;
    /** Ready photos and posters for the face stage (detect-faces), as in AWS. */
    faces: ConsumerQueue;
    /** One queue (and DLQ) per consumer service that may receive events, as in AWS. */
    consumers: Partial<Record<Service, ConsumerQueue>>;
    /** Tests only (`tapEvents`): every full-audience event, whatever its purpose. No service reads it. */
    eventsTap?: string;
    /** `logEvents`: every full-audience event, for the stack's own upload log. */
    eventsLog?: string;
  };
  eventsTopicArn: string;
  stop(): Promise<void>;
}

const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

/**
 * fauxqs with the queues and topic of the stack: ingest, video, rights jobs and faces, each with its DLQ (5 receives); the outbound
 * events topic with one queue per consumer, each with its DLQ, subscribed with raw delivery and the
 * consumer's filter policy (the same subscriptions as in AWS, from `EVENT_SUBSCRIPTIONS`).
 */
export async function startSqsServer(options: {
  host: string;
  port: number;
  region: string;
  tapEvents?: boolean;
  logEvents?: boolean;
}): Promise<SqsServer> {
  const server = await startFauxqs({ port: options.port, logger: false, defaultRegion: options.region });
  const redrive = (dlq: string) => JSON.stringify({ deadLetterTargetArn: arn(dlq), maxReceiveCount: String(MAX_RECEIVE_COUNT) });
  const withDlq = (name: string, attributes: Record<string, string> = {}) => {
    const dlq = server.createQueue(`${name}-dlq`, { attributes: { MessageRetentionPeriod: '1209600' } });
    const queue = server.createQueue(name, { attributes: { ...attributes, RedrivePolicy: redrive(`${name}-dlq`) } });
    return { url: queue.queueUrl, dlq: dlq.queueUrl };
  };

  const ingest = withDlq(QUEUE_NAMES.ingest, { VisibilityTimeout: '60' });
  const video = withDlq(QUEUE_NAMES.video, { VisibilityTimeout: '60' });
  const rightsJobs = withDlq(QUEUE_NAMES.rightsJobs, { VisibilityTimeout: '300' });
  const faces = withDlq(QUEUE_NAMES.faces, { VisibilityTimeout: '300' });
  const { topicArn } = server.createTopic(EVENTS_TOPIC_NAME);
  const consumers: Partial<Record<Service, ConsumerQueue>> = {};
  for (const subscription of EVENT_SUBSCRIPTIONS) {
    const name = consumerQueueName(subscription.consumer);
    consumers[subscription.consumer] = withDlq(name, { MessageRetentionPeriod: '1209600' });
    server.subscribe({
      topic: EVENTS_TOPIC_NAME,
      queue: name,
      attributes: { RawMessageDelivery: 'true', FilterPolicy: JSON.stringify(filterPolicyOf(subscription)) },
    });
  }
  let eventsTap: string | undefined;
  if (options.tapEvents) {
    eventsTap = server.createQueue('media-events-tap').queueUrl;
    server.subscribe({
      topic: EVENTS_TOPIC_NAME,
      queue: 'media-events-tap',
      attributes: { RawMessageDelivery: 'true', FilterPolicy: '{"audience":["full"]}' },
    });
  }
  let eventsLog: string | undefined;
  if (options.logEvents) {
    eventsLog = server.createQueue('media-events-log').queueUrl;
    server.subscribe({
      topic: EVENTS_TOPIC_NAME,
      queue: 'media-events-log',
      attributes: { RawMessageDelivery: 'true', FilterPolicy: '{"audience":["full"]}' },
    });
  }
  return {
    endpoint: server.address,
    queues: {
      ingest: ingest.url,
      ingestDlq: ingest.dlq,
      video: video.url,
      videoDlq: video.dlq,
      rightsJobs,
      faces,
      consumers,
      eventsTap,
      eventsLog,
    },
    eventsTopicArn: topicArn,
    stop: () => server.stop(),
  };
}
