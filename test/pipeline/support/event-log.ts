import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { MediaEvent } from '@media/core';

/** Everything that reached a queue so far, read (and removed) from it: the queue is the truth. */
export class QueueLog {
  readonly messages: { body: string; event: MediaEvent }[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async drain(): Promise<this> {
    for (let empty = 0; empty < 2; ) {
      const received = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) {
        empty += 1;
        continue;
      }
      empty = 0;
      for (const m of messages) this.messages.push({ body: m.Body ?? '', event: JSON.parse(m.Body ?? 'null') });
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    return this;
  }

  /** Events about one media item, in the order they arrived. */
  async eventsFor(mediaId: string): Promise<MediaEvent[]> {
    await this.drain();
    return this.messages.filter((m) => m.event?.mediaId === mediaId).map((m) => m.event);
  }
}

/** How many messages a queue holds, visible or in flight. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
}
