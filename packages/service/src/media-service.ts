import {
  authorize,
  authorizeUsage,
  MediaError,
  notFound,
  readScopeOf,
  type ListQuery,
  type MediaRecord,
  type Principal,
} from '@media/core';
import type { UsageFigure } from '@media/db';
import { auditEntryOf } from './audit-entries';
import { facesFor } from './face-access';
import { deleteItem } from './item-lifecycle';
import { toMediaRecord } from './media-record';
import type { MediaPorts } from './ports';
import { visibleRow } from './visible-row';

/** The media operations of the API: read, list, delete, hold, usage (downloads: downloads.ts). */

type Deps = MediaPorts;

const DUPLICATE_DISTANCE = 6;

export async function getMedia(deps: Deps, principal: Principal, id: string): Promise<MediaRecord> {
  const row = await visibleRow(deps, principal, id);
  authorize(principal, { kind: 'read' }, row);
  const faces = await facesFor(deps, principal, row);
  return faces ? { ...toMediaRecord(row), faces } : toMediaRecord(row);
}

export async function listMedia(
  deps: Deps,
  principal: Principal,
  query: ListQuery,
): Promise<{ items: MediaRecord[]; nextCursor: string | null }> {
  let nearPhash: { phash: string; maxDistance: number; excludeId: string } | undefined;
  if (query.duplicateOf) {
    const reference = await visibleRow(deps, principal, query.duplicateOf);
    authorize(principal, { kind: 'read' }, reference);
    if (!reference.phash) return { items: [], nextCursor: null };
    nearPhash = { phash: reference.phash, maxDistance: DUPLICATE_DISTANCE, excludeId: reference.id };
  }
  const page = await deps.media.listVisible(readScopeOf(principal), { ...query, nearPhash }, query.limit, query.cursor);
  return { items: page.items.map(toMediaRecord), nextCursor: page.nextCursor };
}

/**
 * Tombstones the row, announces it, then removes the objects (`deleteItem`). Once the tombstone is
 * written the delete has happened: what fails after it, the sweeper finishes.
 */
export async function deleteMedia(deps: Deps, principal: Principal, id: string, requestId?: string): Promise<{ purged: boolean }> {
  const row = await visibleRow(deps, principal, id);
  authorize(principal, { kind: 'delete' }, row);
  const deleted = await deleteItem(deps, principal, row, requestId);
  if (deleted) return deleted;
  const now = await deps.media.findInTenant(principal.tenant, id);
  if (now?.legalHold) throw new MediaError('LEGAL_HOLD', 'This media is under legal hold and cannot be deleted.');
  throw notFound('media');
}

export async function setLegalHold(deps: Deps, principal: Principal, id: string, hold: boolean, requestId?: string): Promise<MediaRecord> {
  const row = await visibleRow(deps, principal, id);
  authorize(principal, { kind: 'legal-hold' }, row);
  const updated = await deps.media.setLegalHold(principal.tenant, id, hold, auditEntryOf(principal, requestId, 'legal-hold', row));
  if (!updated) throw notFound('media');
  return toMediaRecord(updated);
}

/** One answer per kept set of figures: frozen like them, so the adapter writes it as JSON once. */
const usageAnswers = new WeakMap<readonly UsageFigure[], Readonly<{ items: readonly UsageFigure[] }>>();

export async function usage(deps: Deps, principal: Principal, groupBy: 'purpose' | 'subject') {
  authorizeUsage(principal, groupBy);
  const items = await deps.media.usage(principal.tenant, groupBy);
  if (!Object.isFrozen(items)) return { items };
  let answer = usageAnswers.get(items);
  if (!answer) {
    answer = Object.freeze({ items });
    usageAnswers.set(items, answer);
  }
  return answer;
}
