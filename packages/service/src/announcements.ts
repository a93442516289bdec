import { mediaEventId, type MediaEvent } from '@media/core';
import type { AnnouncedStatus, MediaRow } from '@media/db';
import { incomingKey } from '@media/storage';
import type { Dependencies } from './dependencies';
import type { EventPublisher } from './event-publisher';
import type { MediaObjects, MediaRows } from './ports';

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
      const { width, height, sha256 } = row;
      // markReady writes all three with the state: a ready row without them is corrupt, not announceable.
      if (width === null || height === null || sha256 === null) throw new Error(`ready media ${row.id} lacks its dimensions or hash`);
      return {
        eventId: mediaEventId('media.ready', row.id),
        type: 'media.ready',
        ...common,
        contentType: original?.contentType ?? row.contentType,
        width,
        height,
        sha256,
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
