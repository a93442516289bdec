import type { Config, Principal } from '@media/core';
import type { MediaRow } from '@media/db';
import { derivativePrefix, incomingKey, originalKey, type EdgeInvalidation } from '@media/storage';
import { announce, announceLate, giveBack } from './announcements';
import { auditEntryOf } from './audit-entries';
import type { EventPublisher } from './event-publisher';
import type { MediaObjects, MediaRows } from './ports';

/**
 * What happens to an item after its row changed state, whoever changed it (the API, the processor,
 * the sweeper, a rights job): its objects found and removed, a deletion finished. Background jobs
 * depend on this module, never on the API's (docs/architecture.md § Layers).
 */

type ObjectLister = { storage: Pick<MediaObjects, 'listKeys'> };

/** Every object an item may have, whatever state it reached. */
export async function objectKeysOf(deps: ObjectLister, row: MediaRow): Promise<string[]> {
  const keys = new Set<string>([incomingKey(row.tenant, row.id), originalKey(row.tenant, row.id)]);
  for (const v of row.variants ?? []) keys.add(v.key);
  for (const key of await deps.storage.listKeys(derivativePrefix(row.tenant, row.id))) keys.add(key);
  return [...keys];
}

/** What the bucket still holds of an item, found by listing its places (not by trusting the row). */
async function remainingKeysOf(deps: ObjectLister, row: Pick<MediaRow, 'tenant' | 'id'>): Promise<string[]> {
  const found = await Promise.all(
    [incomingKey(row.tenant, row.id), originalKey(row.tenant, row.id), derivativePrefix(row.tenant, row.id)].map((prefix) =>
      deps.storage.listKeys(prefix),
    ),
  );
  return found.flat();
}

export type PurgePorts = {
  storage: Pick<MediaObjects, 'listKeys' | 'deleteMany'>;
  media: Pick<MediaRows, 'markPurged'>;
  edge?: EdgeInvalidation;
};

/**
 * Removes every object of a deleted item, checks that none remain, and records the purge once no
 * worker that held the item can still write (see `markPurged`). True when the purge is recorded;
 * false when it must run again (an object reappeared, or a worker's lease is still running): the
 * sweeper runs it again. Throws when S3 fails. Never touches an item under legal hold.
 */
export async function purgeObjects(deps: PurgePorts, row: MediaRow): Promise<boolean> {
  if (row.legalHold) return false;
  const keys = await objectKeysOf(deps, row);
  await deps.storage.deleteMany(keys);
  // Gone from the bucket, the derivatives may still sit in the CDN's edge caches until their
  // max-age: invalidated here, before the purge is recorded, so a failed invalidation is retried by
  // the sweeper with the rest of the purge.
  const prefix = derivativePrefix(row.tenant, row.id);
  await deps.edge?.invalidate(
    keys.filter((key) => key.startsWith(prefix)),
    row.id,
  );
  if ((await remainingKeysOf(deps, row)).length > 0) return false;
  return deps.media.markPurged(row.id);
}

export interface DeletionPorts extends PurgePorts {
  media: Pick<MediaRows, 'markPurged' | 'claimAnnouncement' | 'markAnnounced' | 'releaseLease'>;
  events: EventPublisher;
  config: Pick<Config, 'processing'>;
}

/**
 * The one way a deletion ends, after its tombstone is committed (by DELETE, a consent withdrawal,
 * an erasure): `media.deleted` goes out, then the objects go. Once the tombstone is written the
 * delete has happened, so nothing here throws: an event or a purge that fails is finished by the
 * sweeper (the row still owes its event, or has no `purgedAt`). A tombstone written with an
 * announcement lease (DELETE's) is announced under it; one without (an erasure's batch) takes one
 * first, so a sweeper run that found it owing its event cannot send it at the same moment.
 * True when the objects are gone for good.
 */
export async function finishDeletion(deps: DeletionPorts, deleted: MediaRow): Promise<boolean> {
  if (deleted.leaseExpiresAt) {
    await announce(deps, deleted).catch(() => giveBack(deps, deleted));
  } else {
    await announceLate(deps, deleted.id).catch(() => false);
  }
  return purgeObjects(deps, deleted).catch(() => false);
}

/**
 * Deletes an item as DELETE does, for the API and the rights code alike: a tombstone and its audit
 * row in one transaction (so no URL can be minted from here on), with an announcement lease, then
 * `finishDeletion`. Undefined when nothing was deleted (already deleted, or under legal hold).
 */
export async function deleteItem(
  deps: DeletionPorts & { media: Pick<MediaRows, 'markDeleted'> },
  principal: Principal,
  row: Pick<MediaRow, 'id' | 'subjectId'>,
  requestId: string | undefined,
): Promise<{ purged: boolean } | undefined> {
  const deleted = await deps.media.markDeleted(
    principal.tenant,
    row.id,
    principal.sub,
    deps.config.processing.leaseSeconds,
    auditEntryOf(principal, requestId, 'delete', row),
  );
  return deleted && { purged: await finishDeletion(deps, deleted) };
}
