import { sql } from 'kysely';
import type { RejectionCode, StoredVariant } from '@media/core';
import type { MediaRow } from './database';
import { ANNOUNCED_STATUSES, type AnnouncedStatus, type Lease, leaseUntil, RowStore } from './media-rows';

export interface ProcessedMedia {
  size: number;
  width: number;
  height: number;
  sha256: string;
  /** When the photo was taken (EXIF DateTimeOriginal); none or null when the file does not say. */
  capturedAt?: string | null;
  phash: string | null;
  placeholder: string | null;
  originalKey: string;
  variants: StoredVariant[];
  /** Videos: length in seconds (from the bytes). */
  durationSeconds?: number | null;
}

/** The rows as the processor, the sweeper and the stack's start move them: claims, leases, results, events owed. */
export class ProcessingRows extends RowStore {
  /** Claim for processing: pending, or processing whose lease ran out. The row back carries the lease's owner token. */
  async claim(id: string, leaseSeconds: number): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set((eb) => ({
        status: 'processing',
        leaseExpiresAt: leaseUntil(leaseSeconds),
        leaseOwner: sql<string>`gen_random_uuid()::text`,
        attempts: eb('attempts', '+', 1),
        updatedAt: sql<Date>`now()`,
      }))
      .where('id', '=', id)
      .where((eb) =>
        eb.or([eb('status', '=', 'pending'), eb.and([eb('status', '=', 'processing'), eb('leaseExpiresAt', '<', sql<Date>`now()`)])]),
      )
      .returningAll()
      .executeTakeFirst();
  }
  /** Hands a claimed row back (its object was not there yet), so a later delivery can claim it. */
  async releaseClaim(id: string): Promise<void> {
    await this.db
      .updateTable('media')
      .set({ status: 'pending', leaseExpiresAt: null, leaseOwner: null, updatedAt: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'processing')
      .execute();
  }
  /**
   * Gives a lease back: a `processing` row becomes `pending` again (claimable at once), a finished
   * row that still owes its event may be announced by anyone. Only the lease's owner can do this.
   */
  async releaseLease(id: string, owner: string): Promise<boolean> {
    const result = await this.db
      .updateTable('media')
      .set({
        status: sql`case when status = 'processing' then 'pending' else status end`,
        leaseExpiresAt: null,
        leaseOwner: null,
        updatedAt: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .where('leaseOwner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  /**
   * Processing → ready. With the lease of the claim, only its holder succeeds (a worker whose lease
   * ran out and was re-claimed cannot), and the lease is renewed to cover announcing the result.
   */
  async markReady(id: string, result: ProcessedMedia, lease?: Lease): Promise<MediaRow | undefined> {
    let query = this.db
      .updateTable('media')
      .set({
        status: 'ready',
        size: result.size,
        width: result.width,
        height: result.height,
        sha256: result.sha256,
        capturedAt: result.capturedAt ?? null,
        durationSeconds: result.durationSeconds ?? null,
        phash: result.phash,
        placeholder: result.placeholder,
        originalKey: result.originalKey,
        variants: JSON.stringify(result.variants),
        leaseExpiresAt: lease ? leaseUntil(lease.seconds) : null,
        leaseOwner: lease ? lease.owner : null,
        eventPublishedAt: null,
        processedAt: sql<Date>`now()`,
        updatedAt: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .where('status', '=', 'processing');
    if (lease) query = query.where('leaseOwner', '=', lease.owner);
    return query.returningAll().executeTakeFirst();
  }
  /** Pending or processing → rejected; with a lease, only from the holder's `processing` (as markReady). */
  async markRejected(id: string, code: RejectionCode, detail: string, lease?: Lease): Promise<MediaRow | undefined> {
    let query = this.db
      .updateTable('media')
      .set({
        status: 'rejected',
        rejectionCode: code,
        rejectionDetail: detail,
        leaseExpiresAt: lease ? leaseUntil(lease.seconds) : null,
        leaseOwner: lease ? lease.owner : null,
        eventPublishedAt: null,
        processedAt: sql<Date>`now()`,
        updatedAt: sql<Date>`now()`,
      })
      .where('id', '=', id);
    query = lease
      ? query.where('status', '=', 'processing').where('leaseOwner', '=', lease.owner)
      : query.where('status', 'in', ['pending', 'processing']);
    return query.returningAll().executeTakeFirst();
  }
  /**
   * The right to announce a finished row whose event has not gone out, for one lease: nobody else
   * holds a live lease on it. Two workers cannot both get it, so they cannot both publish.
   */
  async claimAnnouncement(id: string, leaseSeconds: number): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set({ leaseExpiresAt: leaseUntil(leaseSeconds), leaseOwner: sql<string>`gen_random_uuid()::text` })
      .where('id', '=', id)
      .where('status', 'in', [...ANNOUNCED_STATUSES])
      .where('eventPublishedAt', 'is', null)
      .where((eb) => eb.or([eb('leaseExpiresAt', 'is', null), eb('leaseExpiresAt', '<', sql<Date>`now()`)]))
      .returningAll()
      .executeTakeFirst();
  }
  /** The event of `status` went out; a row that has moved on since (e.g. deleted) still owes its own. */
  async markAnnounced(id: string, status: AnnouncedStatus): Promise<boolean> {
    const result = await this.db
      .updateTable('media')
      .set({ eventPublishedAt: sql<Date>`now()`, leaseExpiresAt: null, leaseOwner: null })
      .where('id', '=', id)
      .where('status', '=', status)
      .where('eventPublishedAt', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  /** Finished rows that still owe their event and that nobody is announcing (no live lease). */
  async listUnannounced(limit: number): Promise<MediaRow[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('status', 'in', [...ANNOUNCED_STATUSES])
      .where('eventPublishedAt', 'is', null)
      .where((eb) => eb.or([eb('leaseExpiresAt', 'is', null), eb('leaseExpiresAt', '<', sql<Date>`now()`)]))
      .orderBy('updatedAt')
      .limit(limit)
      .execute();
  }
  /**
   * Uploads nobody is moving on, oldest first: pending past their POST expiry plus grace, or
   * processing with a lapsed lease. Each half reads its own index in order, so a run costs the
   * same however long the backlog.
   */
  async listStalled(graceSeconds: number, limit: number): Promise<MediaRow[]> {
    const [pending, processing] = await Promise.all([
      this.db
        .selectFrom('media')
        .selectAll()
        .where('status', '=', 'pending')
        .where('uploadExpiresAt', '<', sql<Date>`now() - ${graceSeconds} * interval '1 second'`)
        .orderBy('uploadExpiresAt')
        .limit(limit)
        .execute(),
      this.db
        .selectFrom('media')
        .selectAll()
        .where('status', '=', 'processing')
        .where('leaseExpiresAt', '<', sql<Date>`now()`)
        .orderBy('leaseExpiresAt')
        .limit(limit)
        .execute(),
    ]);
    return [...pending, ...processing]
      .sort((a, b) => new Date(a.uploadExpiresAt).getTime() - new Date(b.uploadExpiresAt).getTime())
      .slice(0, limit);
  }
  /**
   * Rows to hand back to the processor after a restart, one batch in id order after `after`:
   * processing rows, and pending rows whose POST could still have been used (expiry plus grace not
   * yet past). Older pending rows are the sweeper's, so this costs the same however long the backlog.
   */
  async listUnfinished(options: { graceSeconds: number; after?: string; limit?: number }): Promise<MediaRow[]> {
    let query = this.db
      .selectFrom('media')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb('status', '=', 'processing'),
          eb.and([
            eb('status', '=', 'pending'),
            eb('uploadExpiresAt', '>=', sql<Date>`now() - ${options.graceSeconds} * interval '1 second'`),
          ]),
        ]),
      );
    if (options.after) query = query.where('id', '>', options.after);
    return query
      .orderBy('id')
      .limit(options.limit ?? 500)
      .execute();
  }
}
