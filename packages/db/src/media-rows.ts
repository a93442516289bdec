import { sql, type Kysely } from 'kysely';
import { appendAudit } from './access-audit';
import type { Database, NewAuditEntry } from './database';

/**
 * What the media rows' stores share (docs/architecture.md § States): every state change is one
 * conditional UPDATE, the row's current state part of the WHERE, so concurrent callers cannot both
 * win, and no row back means "someone else got there first".
 */
export abstract class RowStore {
  constructor(protected readonly db: Kysely<Database>) {}

  /** With an audit entry, the change and its audit row commit together or not at all. */
  protected async withAudit<T>(
    audit: NewAuditEntry | undefined,
    change: (db: Kysely<Database>) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    if (!audit) return change(this.db);
    return this.db.transaction().execute(async (trx) => {
      const changed = await change(trx);
      if (changed) await appendAudit(trx, audit);
      return changed;
    });
  }
}

/** A held lease: the fencing token the claim handed out, and how long a renewal lasts. */
export interface Lease {
  owner: string;
  seconds: number;
}

/** The states whose change is announced by an outbound event. */
export const ANNOUNCED_STATUSES = ['ready', 'rejected', 'deleted'] as const;
export type AnnouncedStatus = (typeof ANNOUNCED_STATUSES)[number];

export const leaseUntil = (seconds: number) => sql<Date>`now() + ${seconds} * interval '1 second'`;

/**
 * What a delete writes, whoever deletes (a person, an erasure, the retention run): who and when.
 * Any processing lease is taken over, so a worker still busy with the item cannot complete it;
 * with `announceLeaseSeconds` the caller holds the new lease while it announces the deletion,
 * without it the sweeper announces it.
 */
export const tombstone = (deletedBy: string, announceLeaseSeconds?: number) => ({
  status: 'deleted' as const,
  deletedAt: sql<Date>`now()`,
  deletedBy,
  // A worker holding a live lease may still write objects until it ends (the lease outlasts
  // the function's timeout); the SET sees the row as it was before this update.
  purgeAfter: sql<Date>`case when status = 'processing' and lease_expires_at > now() then lease_expires_at else now() end`,
  leaseExpiresAt: announceLeaseSeconds ? leaseUntil(announceLeaseSeconds) : null,
  leaseOwner: sql<string>`gen_random_uuid()::text`,
  eventPublishedAt: null,
  updatedAt: sql<Date>`now()`,
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
