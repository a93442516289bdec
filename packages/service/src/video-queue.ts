import type { SqsSender } from './sqs-sender';

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
  constructor(private readonly queue: SqsSender) {}

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
    await this.queue.send(body);
  }
}
