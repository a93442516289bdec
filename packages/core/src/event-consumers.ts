import { POLICY } from './authorization';
import type { Purpose } from './purposes';
import { PURPOSES } from './purposes';
import { SERVICES, type Service } from './principal';

/**
 * Outbound events go out in two cuts, each published once per state change with an `audience`
 * message attribute: `full` (the media event: ids, keys, dimensions) and `counts` (what happened,
 * to which purpose, how big: no subject, classroom or key). Each consumer's queue subscribes to
 * one cut, for the purposes it may read, by a filter on the message attributes, so a queue only
 * ever receives what its service may know (docs/events.md has the table).
 */
export type EventAudience = 'full' | 'counts';

export interface EventSubscription {
  consumer: Service;
  audience: EventAudience;
  purposes: readonly Purpose[];
}

/**
 * A service's subscription follows from the access policy: it sees the full events of the purposes
 * it may read throughout its school; a service that may only read usage figures sees counts; a
 * service that may read neither gets no queue.
 */
export function eventSubscriptionOf(consumer: Service): EventSubscription | null {
  const rules = POLICY[consumer];
  const purposes = PURPOSES.filter((purpose) =>
    rules.read.some((grant) => grant.purposes.includes(purpose) && grant.relations.includes('tenant')),
  );
  if (purposes.length > 0) return { consumer, audience: 'full', purposes };
  if (rules.usage) return { consumer, audience: 'counts', purposes: PURPOSES };
  return null;
}

export const EVENT_SUBSCRIPTIONS: readonly EventSubscription[] = SERVICES.map(eventSubscriptionOf).filter(
  (subscription): subscription is EventSubscription => subscription !== null,
);

/** The SNS filter policy of a consumer's subscription (on message attributes), in AWS and locally alike. */
export const filterPolicyOf = (subscription: EventSubscription): Record<string, string[]> => ({
  audience: [subscription.audience],
  purpose: [...subscription.purposes],
});

/** The queue of a consumer's events: `media-events-{service}`, its dead letters `…-dlq`. */
export const consumerQueueName = (consumer: Service) => `media-events-${consumer}`;
