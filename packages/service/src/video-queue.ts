import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * Where videos wait for the video function: their own queue, so no photo waits behind a video and
 * one hard clip holds up nothing but itself. S3 notifications cannot route by content type, so the
 * photo processor (and the sweeper) forward each video item here, as an S3 notification of its
 * object, which the video function reads like any other.
 */
export interface VideoQueue {
  forward(object: { bucket: string; key: string }): Promise<void>;
}

export class SqsVideoQueue implements VideoQueue {
  private client: SQSClient | undefined;

  constructor(
    private readonly clientConfig: SQSClientConfig,
    private readonly queueUrl: string,
  ) {}

  async forward(object: { bucket: string; key: string }): Promise<void> {
    const body = {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Forwarded',
          s3: { bucket: { name: object.bucket }, object: { key: encodeURIComponent(object.key).replace(/%2F/g, '/') } },
        },
      ],
    };
    // Loaded on the first video, not at cold start: every function bundles this module.
    const sdk = await import('@aws-sdk/client-sqs');
    this.client ??= new sdk.SQSClient(this.clientConfig);
    await this.client.send(new sdk.SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(body) }));
  }
}
