import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import type { S3EventRecord } from './s3-server';

export type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface EventPumpOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: BatchHandler;
  /** The function's name in its Lambda context (default process-upload). */
  functionName?: string;
  batchSize?: number;
  /** Seconds a failed record waits before its next receive, growing with each receive. */
  retryBaseSeconds?: number;
  onError?: (error: unknown) => void;
}

/** AWS URL-encodes keys in notifications as form values (`+` for a space); we do the same. */
export const encodeS3EventKey = (key: string) => encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

/** The notification body S3 would put on the ingest queue for one record. */
export function notificationBody(record: S3EventRecord): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: record.eventName,
        s3: {
          s3SchemaVersion: '1.0',
          bucket: { name: record.s3.bucket.name, arn: `arn:aws:s3:::${record.s3.bucket.name}` },
          object: { ...record.s3.object, key: encodeS3EventKey(record.s3.object.key) },
        },
      },
    ],
  });
}

/**
 * Does locally what S3 notifications and a Lambda event source mapping do in AWS: S3 event
 * records become messages on the ingest queue, and the queue is polled in batches into the
 * processor. Records it reports as failed stay on the queue and come back after a back-off;
 * the queue's redrive policy moves them to the DLQ after five receives.
 */
export class EventPump {
  private running = false;
  private loop: Promise<void> | undefined;
  private polling: AbortController | undefined;
  private readonly options: Required<Omit<EventPumpOptions, 'onError'>> & Pick<EventPumpOptions, 'onError'>;

  constructor(options: EventPumpOptions) {
    this.options = { batchSize: 10, retryBaseSeconds: 1, functionName: 'process-upload', ...options };
  }

  /** S3 → SQS, with the notification filter of the stack: ObjectCreated under `incoming/`. */
  async publishS3Record(record: S3EventRecord): Promise<void> {
    if (!record.eventName.startsWith('ObjectCreated:') || !record.s3.object.key.startsWith('incoming/')) return;
    await this.options.sqs.send(new SendMessageCommand({ QueueUrl: this.options.queueUrl, MessageBody: notificationBody(record) }));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Stops polling once the current receive is answered. `abandonPoll` ends that receive at once
   * instead, for when the queue goes away too (the whole stack stops): a receive abandoned on a
   * queue that lives on may still be handed a message, which then stays invisible for its
   * visibility timeout, so whoever polls next would not see it.
   */
  async stop({ abandonPoll = false }: { abandonPoll?: boolean } = {}): Promise<void> {
    this.running = false;
    if (abandonPoll) this.polling?.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.polling = new AbortController();
      try {
        await this.pollOnce(1, this.polling.signal);
      } catch (error) {
        if (!this.running) break;
        this.options.onError?.(error);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /** One receive → invoke → acknowledge cycle; returns how many messages it handled. */
  async pollOnce(waitSeconds = 0, abortSignal?: AbortSignal): Promise<number> {
    const { sqs, queueUrl, queueArn, handler, batchSize, retryBaseSeconds, functionName } = this.options;
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
      }),
      { abortSignal },
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return 0;
    const records: SQSRecord[] = messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: 'us-east-1',
    }));

    let failed: Set<string>;
    try {
      const response = await handler({ Records: records }, lambdaContext(functionName, 120_000, 2048));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      // A thrown handler fails the whole batch, as in Lambda.
      this.options.onError?.(error);
      failed = new Set(records.map((r) => r.messageId));
    }

    const done = records.filter((r) => !failed.has(r.messageId));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    for (const record of records.filter((r) => failed.has(r.messageId))) {
      const receives = Number(record.attributes.ApproximateReceiveCount) || 1;
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: Math.min(60, retryBaseSeconds * 2 ** (receives - 1)),
        }),
      );
    }
    return records.length;
  }
}
