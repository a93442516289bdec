import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { MediaEvent } from '@media/core';

export interface EventPublisher {
  publish(event: MediaEvent): Promise<void>;
}

/** Outbound events go to an SQS queue; the event id doubles as a message attribute for filtering. */
export class SqsEventPublisher implements EventPublisher {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(event: MediaEvent): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          eventType: { DataType: 'String', StringValue: event.type },
          eventId: { DataType: 'String', StringValue: event.eventId },
          tenant: { DataType: 'String', StringValue: event.tenant },
        },
      }),
    );
  }
}

/** Where no events queue is configured (some tests), events are dropped on purpose, not by accident. */
export const discardEvents: EventPublisher = { publish: async () => {} };
