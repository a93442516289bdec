import * as z from 'zod/mini';
import { described, pureSchema } from './pure-schema';
import { VARIANT_NAMES } from './media';
import { PURPOSES } from './purposes';

/**
 * Outbound events for other services (AI, attendance, user). They carry keys, never URLs:
 * a consumer asks for a URL with its own identity when it needs the bytes. The schemas are the
 * contract (docs/events.md prints them); the types are what they infer.
 */
// The event schemas document and type the events (the local stack checks them); pure (pure-schema.ts),
// so the functions that send events do not build them at cold start.
const base = /* @__PURE__ */ pureSchema(() => ({
  eventId: described(z.string(), {
    description: '`{type}:{mediaId}`: the same for every delivery of one state change; de-duplicate on it.',
  }),
  occurredAt: described(z.iso.datetime(), {
    description: 'When the state changed (processedAt or deletedAt of the record), not when this copy was sent.',
  }),
  tenant: described(z.string(), { description: 'The school.' }),
  mediaId: z.uuid(),
  purpose: z.enum(PURPOSES),
  subjectId: z.nullable(z.string()),
  classroomId: z.nullable(z.string()),
}));

const VariantRef = /* @__PURE__ */ pureSchema(() =>
  z.strictObject({
    name: z.enum(VARIANT_NAMES),
    key: described(z.string(), { description: 'The S3 object key; ask the API for a URL with your own identity.' }),
    format: z.string(),
    width: z.int(),
    height: z.int(),
    size: described(z.int(), { description: 'Bytes.' }),
  }),
);

/** The outbound events as other services receive them: keys, never URLs. Strict: no field beyond these. */
export const MediaEventSchema = /* @__PURE__ */ pureSchema(() =>
  described(
    z.discriminatedUnion('type', [
      z.strictObject({
        ...base,
        type: z.literal('media.ready'),
        contentType: z.string(),
        width: z.int(),
        height: z.int(),
        sha256: z.string().check(z.regex(/^[a-f0-9]{64}$/)),
        variants: z.array(VariantRef),
      }),
      z.strictObject({ ...base, type: z.literal('media.rejected'), rejection: z.strictObject({ code: z.string(), detail: z.string() }) }),
      z.strictObject({ ...base, type: z.literal('media.deleted') }),
    ]),
    { title: 'MediaEvent', description: 'One state change of a media item, on the outbound events queue.' },
  ),
);

export type MediaEvent = z.infer<typeof MediaEventSchema>;
export type MediaEventType = MediaEvent['type'];

export const mediaEventId = (type: MediaEventType, mediaId: string) => `${type}:${mediaId}`;

/**
 * The counts-level cut of an event (analytics): what happened to which purpose and how big, with
 * no subject, classroom, key or rejection detail. Strict.
 */
export const MediaCountEventSchema = /* @__PURE__ */ pureSchema(() =>
  described(
    z.strictObject({
      eventId: base.eventId,
      type: z.enum(['media.ready', 'media.rejected', 'media.deleted']),
      occurredAt: base.occurredAt,
      tenant: base.tenant,
      mediaId: base.mediaId,
      purpose: base.purpose,
      contentType: described(z.optional(z.string()), { description: 'media.ready: the type of the validated original.' }),
      size: described(z.optional(z.int()), { description: 'media.ready: bytes of the validated original.' }),
      rejectionCode: described(z.optional(z.string()), { description: 'media.rejected: the code of the reason.' }),
    }),
    { title: 'MediaCountEvent', description: 'One state change of a media item, counts-level (analytics).' },
  ),
);

export type MediaCountEvent = z.infer<typeof MediaCountEventSchema>;

export function countsOf(event: MediaEvent): MediaCountEvent {
  const { eventId, type, occurredAt, tenant, mediaId, purpose } = event;
  const counts: MediaCountEvent = { eventId, type, occurredAt, tenant, mediaId, purpose };
  if (event.type === 'media.ready') {
    const original = event.variants.find((v) => v.name === 'original');
    counts.contentType = event.contentType;
    if (original) counts.size = original.size;
  }
  if (event.type === 'media.rejected') counts.rejectionCode = event.rejection.code;
  return counts;
}

/**
 * Events about a person rather than one item: their consent changed (a withdrawal means: forget
 * what you derived from their photos for that use), or everything about them was erased. They go
 * to the services that may read profiles throughout the school (ai-service, user-service), with
 * the person's id and nothing else about them.
 */
export interface SubjectEvent {
  eventId: string;
  type: 'subject.consent-changed' | 'subject.erased';
  occurredAt: string;
  tenant: string;
  subjectId: string;
  /** subject.consent-changed: the consent now in force. */
  recognition?: boolean;
  training?: boolean;
}

export type OutboundEvent = MediaEvent | SubjectEvent;

export const isSubjectEvent = (event: OutboundEvent): event is SubjectEvent => event.type.startsWith('subject.');
