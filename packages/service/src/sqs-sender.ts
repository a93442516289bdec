import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * Sends messages to one SQS queue. The SDK's module loads on the first message, not at cold start:
 * the functions that bundle this (those that send, messaging.ts) send on few of their requests.
 */
export class SqsSender {
  private client: SQSClient | undefined;

  constructor(
    private readonly clientConfig: SQSClientConfig,
    private readonly queueUrl: string,
  ) {}

  async send(body: unknown): Promise<void> {
    const sdk = await import('@aws-sdk/client-sqs');
    this.client ??= new sdk.SQSClient(this.clientConfig);
    await this.client.send(new sdk.SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body) }));
  }
}
