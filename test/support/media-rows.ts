import { sql, type Kysely } from 'kysely';
import type { Database, MediaRow, NewPendingMedia } from '@media/db';

/**
 * Rows and figures tests set up or read directly, past the limits and the ports the service goes
 * through: the service itself never writes a pending row but by a reservation (`reserveUploads`).
 */

/** A pending row, written as it is (no limit checked). */
export async function createPending(db: Kysely<Database>, { subjectIds, ...item }: NewPendingMedia): Promise<MediaRow> {
  return db
    .insertInto('media')
    .values({ ...item, subjectIds, subjectId: subjectIds[0] ?? null, status: 'pending', variants: '[]' })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Bytes a school holds or has reserved, from the counters (the sum of its shards). */
export async function tenantBytes(db: Kysely<Database>, tenant: string): Promise<number> {
  const row = await db
    .selectFrom('mediaUsage')
    .select(sql<string>`sum(stored_bytes + reserved_bytes)`.as('bytes'))
    .where('tenant', '=', tenant)
    .where('scope', '=', 'school')
    .where('key', '=', '')
    .executeTakeFirst();
  return Number(row?.bytes ?? 0);
}

/** An uploader's pending rows whose POST still works: the unfinished uploads that count against their limit. */
export async function countingPendingUploads(db: Kysely<Database>, tenant: string, uploadedBy: string): Promise<number> {
  const row = await db
    .selectFrom('media')
    .select(sql<string>`count(*)`.as('n'))
    .where('tenant', '=', tenant)
    .where('uploadedBy', '=', uploadedBy)
    .where('status', '=', 'pending')
    .where('uploadExpiresAt', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
