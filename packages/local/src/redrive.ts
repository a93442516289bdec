import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveResult {
  moved: number;
  /** Messages the target refused; they stay in the dead-letter queue for the next try. */
  failed: number;
}

/** A queue named by URL, or by name (resolved on the server the client talks to). */
export async function queueUrlOf(sqs: SQSClient, nameOrUrl: string): Promise<string> {
  if (/^https?:\/\//.test(nameOrUrl)) return nameOrUrl;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: nameOrUrl }));
  if (!QueueUrl) throw new Error(`no queue named ${nameOrUrl}`);
  return QueueUrl;
}

/**
 * Moves messages from a dead-letter queue back to the queue they came from: each is sent to the
 * target first and deleted from the DLQ only once the target has it, so a crash half-way leaves a
 * duplicate (which processing absorbs), never a loss. Bodies and attributes travel unchanged;
 * the receive count starts again.
 */
export async function redriveMessages(
  sqs: SQSClient,
  options: { from: string; to: string; max?: number; waitSeconds?: number },
): Promise<RedriveResult> {
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const result: RedriveResult = { moved: 0, failed: 0 };
  while (result.moved + result.failed < max) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.from,
        MaxNumberOfMessages: Math.min(10, max - result.moved - result.failed),
        WaitTimeSeconds: options.waitSeconds ?? 1,
        // Long enough to send and delete; a refused message reappears in the DLQ after it.
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: options.to,
        Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body ?? '', MessageAttributes: m.MessageAttributes })),
      }),
    );
    const delivered = (sent.Successful ?? []).map((s) => messages[Number(s.Id)]!);
    result.failed += sent.Failed?.length ?? 0;
    if (delivered.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.from,
          Entries: delivered.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
    result.moved += delivered.length;
  }
  return result;
}
