import { sql } from 'kysely';
import type { MediaRow, NewAuditEntry } from './database';
import { RowStore, tombstone } from './media-rows';

/** The rows of deletions: tombstones, purges recorded, and the legal hold that blocks both. */
export class DeletionRows extends RowStore {
  /**
   * Tombstone: who and when. A legal hold makes this a no-op (no row back). Any processing lease is
   * taken over, so a worker still busy with the item cannot complete it; with `announceLeaseSeconds`
   * the caller holds the new lease while it announces the deletion.
   */
  async markDeleted(
    tenant: string,
    id: string,
    deletedBy: string,
    announceLeaseSeconds?: number,
    audit?: NewAuditEntry,
  ): Promise<MediaRow | undefined> {
    return this.withAudit(audit, (db) =>
      db
        .updateTable('media')
        .set(tombstone(deletedBy, announceLeaseSeconds))
        .where('id', '=', id)
        .where('tenant', '=', tenant)
        .where('status', '<>', 'deleted')
        .where('legalHold', '=', false)
        .returningAll()
        .executeTakeFirst(),
    );
  }
  /**
   * Records that a deleted item's objects are gone for good: only once no worker that held it can
   * still write (its lease is over). False when that moment has not come; the purge is then repeated.
   */
  async markPurged(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('media')
      .set({ purgedAt: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'deleted')
      .where((eb) => eb.or([eb('purgeAfter', 'is', null), eb('purgeAfter', '<=', sql<Date>`now()`)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  /**
   * Deleted rows whose objects may still be in the bucket, including those a worker may still write
   * to (purged again on every run until its lease is over). Never one under legal hold.
   */
  async listUnpurged(limit: number): Promise<MediaRow[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('status', '=', 'deleted')
      .where('purgedAt', 'is', null)
      .where('legalHold', '=', false)
      .orderBy('deletedAt')
      .limit(limit)
      .execute();
  }
  async setLegalHold(tenant: string, id: string, hold: boolean, audit?: NewAuditEntry): Promise<MediaRow | undefined> {
    return this.withAudit(audit, (db) =>
      db
        .updateTable('media')
        .set({ legalHold: hold, updatedAt: sql<Date>`now()` })
        .where('id', '=', id)
        .where('tenant', '=', tenant)
        .where('status', '<>', 'deleted')
        .returningAll()
        .executeTakeFirst(),
    );
  }
}
