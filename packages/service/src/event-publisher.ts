import type { SNSClient, SNSClientConfig } from '@aws-sdk/client-sns';
import { countsOf, isSubjectEvent, type EventAudience, type OutboundEvent } from '@media/core';

export interface EventPublisher {
  publish(event: OutboundEvent): Promise<void>;
}

/** One message as it goes out: the body of one audience and the attributes the subscriptions filter on. */
export interface OutboundMessage {
  audience: EventAudience;
  body: string;
  attributes: Record<'audience' | 'purpose' | 'eventType' | 'eventId' | 'tenant', string>;
}

/**
 * The messages of one event: the full event, and its counts-level cut. Each consumer's queue is
 * subscribed to one audience and the purposes it may read (`EVENT_SUBSCRIPTIONS`), so scoping is
 * decided here, once, and enforced by the subscriptions' filters.
 */
export function outboundMessagesOf(event: OutboundEvent): OutboundMessage[] {
  if (isSubjectEvent(event)) {
    // About a person: for the services that may read profiles (their subscriptions take `profile`
    // events); never in the counts-level cut.
    const attributes = { audience: 'full', purpose: 'profile', eventType: event.type, eventId: event.eventId, tenant: event.tenant };
    return [{ audience: 'full', body: JSON.stringify(event), attributes }];
  }
  const attributes = { purpose: event.purpose, eventType: event.type, eventId: event.eventId, tenant: event.tenant };
  return [
    { audience: 'full', body: JSON.stringify(event), attributes: { audience: 'full', ...attributes } },
    { audience: 'counts', body: JSON.stringify(countsOf(event)), attributes: { audience: 'counts', ...attributes } },
  ];
}

/**
 * Outbound events go to one SNS topic, which fans them out to a queue per consumer (raw delivery,
 * a filter per subscription). Both audiences are sent every time: a retry after a partial failure
 * sends both again, with the same eventId (consumers de-duplicate on it).
 */
export class SnsEventPublisher implements EventPublisher {
  private client: Promise<SNSClient> | undefined;

  constructor(
    private readonly clientConfig: SNSClientConfig,
    private readonly topicArn: string,
  ) {}

  async publish(event: OutboundEvent): Promise<void> {
    // Loaded on the first event, not at cold start: of the API functions only deletes and erasures
    // publish, and the client's module costs every function that bundles it time at init.
    const sdk = await import('@aws-sdk/client-sns');
    this.client ??= Promise.resolve(new sdk.SNSClient(this.clientConfig));
    const client = await this.client;
    await Promise.all(
      outboundMessagesOf(event).map((message) =>
        client.send(
          new sdk.PublishCommand({
            TopicArn: this.topicArn,
            Message: message.body,
            MessageAttributes: Object.fromEntries(
              Object.entries(message.attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]),
            ),
          }),
        ),
      ),
    );
  }
}

/** Where no events topic is configured (some tests), events are dropped on purpose, not by accident. */
export const discardEvents: EventPublisher = { publish: async () => {} };
