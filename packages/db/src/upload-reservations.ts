import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database, MediaRow, MediaTable } from './database';
import { RowStore } from './media-rows';

/**
 * A pending row as an upload reserves it: the media table's insert shape, for the columns a
 * reservation writes (the database's `media_reserve_uploads` reads them by their column names).
 */
export type NewPendingMedia = Pick<
  Insertable<MediaTable>,
  | 'id'
  | 'tenant'
  | 'purpose'
  | 'classroomId'
  | 'uploadedBy'
  | 'contentType'
  | 'declaredSize'
  | 'filename'
  | 'kind'
  | 'multipartUploadId'
  | 'partSize'
  | 'partCount'
> & {
  /** The people the item names (none: nobody); the first is stored as `subject_id`. */
  subjectIds: string[];
  /** When the POST (or the multipart upload) stops working, and the row stops counting against the limits. */
  uploadExpiresAt: Date;
};

/** A row's fields under their SQL column names, as the reservation function reads them. */
const columnsOf = (row: object) =>
  Object.fromEntries(Object.entries(row).map(([field, value]) => [field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]));

/** Space held, as the upload's quota checks see it: the school's, and the uploader's own. */
export interface HeldSpace {
  school: number;
  person: number;
}

/** What a refused reservation read, right after its rows were written (and then undone). */
export interface UploadCheckState {
  /** When each of the uploader's other counting unfinished uploads expires, soonest first. */
  pendingExpiries: Date[];
  /** Space held, the refused request included. */
  held: HeldSpace;
}

/** The limits an upload request must stay within; `personQuotaBytes` null: no personal cap. */
export interface UploadLimits {
  schoolQuotaBytes: number;
  personQuotaBytes: number | null;
  /** Unfinished uploads the uploader may hold, this request's included. */
  maxPending: number;
}

/** The figures `media_reserve_uploads` raised with (SQLSTATE MR001), or null for any other error. */
function refusalOf(error: unknown): UploadCheckState | null {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== 'MR001') return null;
  const detail = 'detail' in error && typeof error.detail === 'string' ? error.detail : '{}';
  const figures = JSON.parse(detail) as { school?: number; person?: number; pendingExpiries?: string[] };
  return {
    pendingExpiries: (figures.pendingExpiries ?? []).map((at) => new Date(at)),
    held: { school: Number(figures.school ?? 0), person: Number(figures.person ?? 0) },
  };
}

/** The rows of uploads on their way in: reserved within the limits, completed or given up, or expired. */
export class UploadReservations extends RowStore {
  /**
   * Writes pending rows if the limits allow, in one statement (`media_reserve_uploads`, run in
   * autocommit): the insert locks the counter shards its rows fall in and the uploader's own
   * counter row (the counters' trigger updates them), then the figures are read, which include every
   * upload committed before and this one, and compared with `limits`. Over any of them, nothing is
   * written and the figures come back for the caller to say which limit it was. An uploader's
   * uploads go one at a time from their insert to their commit (so the person's cap and the
   * unfinished-upload limit are exact); a school's go side by side, one per shard of its counters,
   * so the school's quota may be overrun by what other shards reserve at the same moment
   * (migration 0010, docs/scale.md).
   */
  async reserveUploads(items: NewPendingMedia[], limits: UploadLimits): Promise<UploadCheckState | null> {
    if (items.length === 0) return null;
    // The first subject is the row's `subject_id`; dates go as ISO text (JSON).
    const rows = items.map(({ subjectIds, ...item }) =>
      columnsOf({ ...item, subjectId: subjectIds[0] ?? null, kind: item.kind ?? 'image' }),
    );
    const reserve = (db: Kysely<Database>) =>
      sql`select media_reserve_uploads(${JSON.stringify(rows)}::jsonb, ${limits.schoolQuotaBytes}::bigint,
          ${limits.personQuotaBytes}::bigint, ${limits.maxPending}::integer)`.execute(db);
    const shared = items.filter((item) => item.subjectIds.length > 1);
    try {
      if (shared.length === 0) {
        await reserve(this.db);
        return null;
      }
      // The function writes each item's first subject; the others join in the same transaction
      // (one more statement under the school's lock, only for items naming several people).
      await this.db.transaction().execute(async (trx) => {
        await reserve(trx);
        for (const item of shared) await trx.updateTable('media').set({ subjectIds: item.subjectIds }).where('id', '=', item.id).execute();
      });
      return null;
    } catch (error) {
      const refused = refusalOf(error);
      if (!refused) throw error;
      return refused;
    }
  }
  /**
   * The uploader's multipart upload is assembled: pending → processing with a lease that has
   * already run out, so the record says the upload is done while the processor (its S3 event, or
   * the sweeper) claims it like any other lapsed lease. Only for this uploader and this S3 upload.
   */
  async completeMultipart(tenant: string, id: string, uploadedBy: string, uploadId: string): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set({
        status: 'processing',
        leaseExpiresAt: sql<Date>`now()`,
        leaseOwner: null,
        multipartUploadId: null,
        updatedAt: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .where('tenant', '=', tenant)
      .where('uploadedBy', '=', uploadedBy)
      .where('status', '=', 'pending')
      .where('multipartUploadId', '=', uploadId)
      .returningAll()
      .executeTakeFirst();
  }
  /** The uploader gives up a multipart upload: pending → expired (its reservation ends); the row keeps the S3 id to abort. */
  async abortMultipart(tenant: string, id: string, uploadedBy: string): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set({ status: 'expired', leaseExpiresAt: null, leaseOwner: null, updatedAt: sql<Date>`now()` })
      .where('id', '=', id)
      .where('tenant', '=', tenant)
      .where('uploadedBy', '=', uploadedBy)
      .where('status', '=', 'pending')
      .where('multipartUploadId', 'is not', null)
      .returningAll()
      .executeTakeFirst();
  }
  /** One upload that never arrived: pending → expired, if it is still pending past expiry plus grace. */
  async expirePending(id: string, graceSeconds: number): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set({ status: 'expired', leaseExpiresAt: null, leaseOwner: null, updatedAt: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('uploadExpiresAt', '<', sql<Date>`now() - ${graceSeconds} * interval '1 second'`)
      .returningAll()
      .executeTakeFirst();
  }
}
