import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditAction } from '@media/core';
import type { AccessAuditRow, Database, NewAuditEntry } from './database';

/**
 * Appends one audit row with the connection or transaction of the action it records, so the two
 * commit together: an action whose audit row could not be written did not happen.
 */
export async function appendAudit(db: Kysely<Database> | Transaction<Database>, entry: NewAuditEntry | NewAuditEntry[]): Promise<void> {
  const rows = Array.isArray(entry) ? entry : [entry];
  if (rows.length === 0) return;
  await db.insertInto('accessAudit').values(rows).execute();
}

export interface AuditFilter {
  mediaId?: string;
  subjectId?: string;
  actor?: string;
  action?: AuditAction;
  after?: string;
  before?: string;
}

const encodeCursor = (row: Pick<AccessAuditRow, 'at' | 'id'>) =>
  Buffer.from(`${new Date(row.at).toISOString()}|${row.id}`, 'utf8').toString('base64url');
const decodeCursor = (cursor: string): { at: Date; id: number } | null => {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = new Date(at ?? '');
  return Number.isNaN(date.getTime()) || !/^\d{1,18}$/.test(id ?? '') ? null : { at: date, id: Number(id) };
};

/**
 * Records the deploy's audit retention, below which the database's prune deletes nothing whatever
 * retention its caller passes. Only the migrating role may (the app role reads it).
 */
export async function recordAuditRetention(db: Kysely<Database>, days: number): Promise<void> {
  await sql`update audit_retention set days = ${days}`.execute(db);
}

/** The access audit log: read newest first per school, pruned only through the database's own function. */
export class AccessAuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  append(entry: NewAuditEntry | NewAuditEntry[]): Promise<void> {
    return appendAudit(this.db, entry);
  }

  /**
   * A page of the school's log, newest first. Times are stored to the millisecond, so the cursor
   * (time and id) is exact; every filter has an index ending in (at, id).
   */
  async list(
    tenant: string,
    filter: AuditFilter,
    limit: number,
    cursor?: string,
  ): Promise<{ items: AccessAuditRow[]; nextCursor: string | null }> {
    let query = this.db.selectFrom('accessAudit').selectAll().where('tenant', '=', tenant);
    if (filter.mediaId) query = query.where('mediaId', '=', filter.mediaId);
    if (filter.subjectId) query = query.where('subjectId', '=', filter.subjectId);
    if (filter.actor) query = query.where('actor', '=', filter.actor);
    if (filter.action) query = query.where('action', '=', filter.action);
    if (filter.after) query = query.where('at', '>', new Date(filter.after));
    if (filter.before) query = query.where('at', '<', new Date(filter.before));
    if (cursor) {
      const position = decodeCursor(cursor);
      if (!position) return { items: [], nextCursor: null };
      query = query.where(sql<boolean>`(at, id) < (${position.at}, ${position.id})`);
    }
    const rows = await query
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null };
  }

  /**
   * Deletes one batch of rows older than `retentionDays` through `prune_access_audit` (migrations
   * 0007, 0011), the app role's only way to delete audit rows; it refuses a retention under 30
   * days and never deletes rows younger than the retention the deploy recorded.
   */
  async prune(retentionDays: number, batch = 1000): Promise<number> {
    const { rows } = await sql<{
      removed: number;
    }>`select prune_access_audit(${retentionDays}::integer, ${batch}::integer) as removed`.execute(this.db);
    return Number(rows[0]?.removed ?? 0);
  }
}
