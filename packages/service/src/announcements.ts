// A namespace import lets esbuild drop what is unused (zod's locales alone are 370 KB).
import * as z from 'zod';
import { mediaEventId, PURPOSES, VARIANT_NAMES, type MediaCountEvent, type MediaEvent } from '@media/core';
import type { AnnouncedStatus, MediaRow } from '@media/db';
import { incomingKey } from '@media/storage';
import type { Dependencies } from './dependencies';
import type { EventPublisher } from './event-publisher';
import type { MediaObjects, MediaRows } from './ports';

const base = {
  eventId: z.string().meta({ description: '`{type}:{mediaId}`: the same for every delivery of one state change; de-duplicate on it.' }),
  occurredAt: z.iso
    .datetime()
    .meta({ description: 'When the state changed (processedAt or deletedAt of the record), not when this copy was sent.' }),
  tenant: z.string().meta({ description: 'The school.' }),
  mediaId: z.uuid(),
  purpose: z.enum(PURPOSES),
  subjectId: z.string().nullable(),
  classroomId: z.string().nullable(),
};

const VariantRef = z
  .object({
    name: z.enum(VARIANT_NAMES),
    key: z.string().meta({ description: 'The S3 object key; ask the API for a URL with your own identity.' }),
    format: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    size: z.number().int().meta({ description: 'Bytes.' }),
  })
  .strict();

/** The outbound events as other services receive them: keys, never URLs. Strict: no field beyond these. */
export const MediaEventSchema = z
  .discriminatedUnion('type', [
    z
      .object({
        ...base,
        type: z.literal('media.ready'),
        contentType: z.string(),
        width: z.number().int(),
        height: z.number().int(),
        sha256: z.string().regex(/^[a-f0-9]{64}$/),
        variants: z.array(VariantRef),
      })
      .strict(),
    z
      .object({ ...base, type: z.literal('media.rejected'), rejection: z.object({ code: z.string(), detail: z.string() }).strict() })
      .strict(),
    z.object({ ...base, type: z.literal('media.deleted') }).strict(),
  ])
  .meta({ title: 'MediaEvent', description: 'One state change of a media item, on the outbound events queue.' });

// The schema and the core type describe the same messages.
const _sameShape: MediaEvent = {} as z.infer<typeof MediaEventSchema>;
void _sameShape;

/** The counts-level cut analytics receives: no subject, classroom, key or rejection detail. Strict. */
export const MediaCountEventSchema = z
  .object({
    eventId: base.eventId,
    type: z.enum(['media.ready', 'media.rejected', 'media.deleted']),
    occurredAt: base.occurredAt,
    tenant: base.tenant,
    mediaId: base.mediaId,
    purpose: base.purpose,
    contentType: z.string().optional().meta({ description: 'media.ready: the type of the validated original.' }),
    size: z.number().int().optional().meta({ description: 'media.ready: bytes of the validated original.' }),
    rejectionCode: z.string().optional().meta({ description: 'media.rejected: the code of the reason.' }),
  })
  .strict()
  .meta({ title: 'MediaCountEvent', description: 'One state change of a media item, counts-level (analytics).' });

const _sameCounts: MediaCountEvent = {} as z.infer<typeof MediaCountEventSchema>;
void _sameCounts;

const iso = (value: Date | string | null) => (value === null ? new Date(0) : new Date(value)).toISOString();

/**
 * The event of a row's current state, built from the row alone: whoever sends it (the processor,
 * a redelivery, the sweeper) sends the same message, with the same eventId and occurredAt.
 */
export function eventOf(row: MediaRow): MediaEvent | null {
  const common = {
    occurredAt: iso(row.status === 'deleted' ? row.deletedAt : row.processedAt),
    tenant: row.tenant,
    mediaId: row.id,
    purpose: row.purpose,
    subjectId: row.subjectId,
    classroomId: row.classroomId,
  };
  switch (row.status) {
    case 'ready': {
      const original = row.variants.find((v) => v.name === 'original');
      return {
        eventId: mediaEventId('media.ready', row.id),
        type: 'media.ready',
        ...common,
        contentType: original?.contentType ?? row.contentType,
        width: row.width,
        height: row.height,
        sha256: row.sha256,
        variants: row.variants.map(({ name, key, format, width, height, size }) => ({ name, key, format, width, height, size })),
      };
    }
    case 'rejected':
      return {
        eventId: mediaEventId('media.rejected', row.id),
        type: 'media.rejected',
        ...common,
        rejection: { code: row.rejectionCode ?? 'REJECTED', detail: row.rejectionDetail ?? '' },
      };
    case 'deleted':
      return { eventId: mediaEventId('media.deleted', row.id), type: 'media.deleted', ...common };
    default:
      return null;
  }
}

/** Tries to record a sent event this many times before giving up. */
const RECORD_ATTEMPTS = 3;

/**
 * Sends the event of a row whose lease the caller holds, then records that it went out. A crash
 * between the two sends it once more later (same eventId): at least once, never zero times.
 */
export async function announce(deps: { media: Pick<MediaRows, 'markAnnounced'>; events: EventPublisher }, row: MediaRow): Promise<void> {
  const event = eventOf(row);
  if (!event) return;
  await deps.events.publish(event);
  // The event is out: failing to record it now would send it again later, so a brief database
  // hiccup is worth waiting out here.
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.media.markAnnounced(row.id, row.status as AnnouncedStatus);
      return;
    } catch (error) {
      if (attempt >= RECORD_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/**
 * Finishes a state change whose worker stopped before its event went out: takes the announcement
 * lease (so only one worker does this), removes the processed upload's incoming object, sends the
 * event. False when there is nothing to do or someone else is on it.
 */
export async function announceLate(
  deps: {
    media: Pick<MediaRows, 'claimAnnouncement' | 'markAnnounced' | 'releaseLease'>;
    storage: Pick<MediaObjects, 'deleteMany'>;
    events: EventPublisher;
    config: Pick<Dependencies['config'], 'processing'>;
  },
  id: string,
): Promise<boolean> {
  const row = await deps.media.claimAnnouncement(id, deps.config.processing.leaseSeconds);
  if (!row) return false;
  try {
    if (row.status === 'ready' || row.status === 'rejected') await deps.storage.deleteMany([incomingKey(row.tenant, row.id)]);
    await announce(deps, row);
    return true;
  } catch (error) {
    await giveBack(deps, row);
    throw error;
  }
}

/** Best effort: if this fails too, the lease simply runs out. */
export async function giveBack(deps: { media: Pick<MediaRows, 'releaseLease'> }, row: Pick<MediaRow, 'id' | 'leaseOwner'>): Promise<void> {
  if (row.leaseOwner) await deps.media.releaseLease(row.id, row.leaseOwner).catch(() => undefined);
}
