import { startFauxqs } from 'fauxqs';

export const QUEUE_NAMES = {
  ingest: 'media-ingest',
  ingestDlq: 'media-ingest-dlq',
  events: 'media-events',
  eventsDlq: 'media-events-dlq',
} as const;

export const MAX_RECEIVE_COUNT = 5;

export interface SqsServer {
  endpoint: string;
  queues: { ingest: string; ingestDlq: string; events: string; eventsDlq: string };
  stop(): Promise<void>;
}

const arn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

/** fauxqs with the queues of the stack: ingest with its DLQ (5 receives), outbound events with its DLQ. */
export async function startSqsServer(options: { host: string; port: number; region: string }): Promise<SqsServer> {
  const server = await startFauxqs({ port: options.port, logger: false, defaultRegion: options.region });
  const redrive = (dlq: string) => JSON.stringify({ deadLetterTargetArn: arn(dlq), maxReceiveCount: String(MAX_RECEIVE_COUNT) });
  const ingestDlq = server.createQueue(QUEUE_NAMES.ingestDlq, { attributes: { MessageRetentionPeriod: '1209600' } });
  const eventsDlq = server.createQueue(QUEUE_NAMES.eventsDlq, { attributes: { MessageRetentionPeriod: '1209600' } });
  const ingest = server.createQueue(QUEUE_NAMES.ingest, {
    attributes: { VisibilityTimeout: '60', RedrivePolicy: redrive(QUEUE_NAMES.ingestDlq) },
  });
  const events = server.createQueue(QUEUE_NAMES.events, { attributes: { RedrivePolicy: redrive(QUEUE_NAMES.eventsDlq) } });
  return {
    endpoint: server.address,
    queues: { ingest: ingest.queueUrl, ingestDlq: ingestDlq.queueUrl, events: events.queueUrl, eventsDlq: eventsDlq.queueUrl },
    stop: () => server.stop(),
  };
}
