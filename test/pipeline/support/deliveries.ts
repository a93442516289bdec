import { randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext, notificationBody } from '@media/local';

export type BatchHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse>;

/** An SQS record carrying the S3 notification for one object, as the ingest queue delivers it. */
export function s3Record(bucket: string, key: string, options: { body?: string; receiveCount?: number } = {}): SQSRecord {
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body: options.body ?? notificationBody({ eventName: 'ObjectCreated:Post', s3: { bucket: { name: bucket }, object: { key, size: 1 } } }),
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:media-ingest',
    awsRegion: 'us-east-1',
  };
}

/** One invocation with these records; the ids of the records it reported as failed. */
export async function deliver(handler: BatchHandler, records: SQSRecord[]): Promise<string[]> {
  const response = await handler({ Records: records }, lambdaContext('process-upload', 120_000));
  return (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
}

/**
 * Delivers one record until it is acknowledged, the way SQS would: a failed record comes back
 * after a back-off, at most `maxReceives` times. Returns how many receives it took.
 */
export async function deliverUntilAcknowledged(
  handler: (attempt: number) => BatchHandler,
  record: SQSRecord,
  { maxReceives = 5, backoffMs = (n: number) => 250 * 2 ** (n - 1) } = {},
): Promise<number> {
  for (let receive = 1; receive <= maxReceives; receive++) {
    const failed = await deliver(handler(receive), [
      { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: String(receive) } },
    ]);
    if (failed.length === 0) return receive;
    await new Promise((r) => setTimeout(r, backoffMs(receive)));
  }
  throw new Error(`record for ${record.body.slice(0, 80)}… still failing after ${maxReceives} receives`);
}
