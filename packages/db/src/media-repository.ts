import { sql, type Expression, type ExpressionBuilder, type Kysely, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { PURPOSES, SERVICES, type MediaStatus, type Purpose, type ReadScope, type RejectionCode, type StoredVariant } from '@media/core';
import { appendAudit } from './access-audit';
import type { Database, MediaRow, NewAuditEntry } from './database';
import { nearHashBands } from './phash-bands';

export interface NewPendingMedia {
  id: string;
  tenant: string;
  purpose: Purpose;
  /** The people the item names (none: nobody); the first is stored as `subject_id`. */
  subjectIds: string[];
  classroomId: string | null;
  uploadedBy: string;
  contentType: string;
  declaredSize: number;
  filename: string | null;
  uploadExpiresAt: Date;
  kind?: 'image' | 'video';
  /** Multipart uploads: S3's upload id and the plan the uploader was given. */
  multipartUploadId?: string | null;
  partSize?: number | null;
  partCount?: number | null;
}

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

/** A held lease: the fencing token the claim handed out, and how long a renewal lasts. */
export interface Lease {
  owner: string;
  seconds: number;
}

/** The states whose change is announced by an outbound event. */
export const ANNOUNCED_STATUSES = ['ready', 'rejected', 'deleted'] as const;
export type AnnouncedStatus = (typeof ANNOUNCED_STATUSES)[number];

const leaseUntil = (seconds: number) => sql<Date>`now() + ${seconds} * interval '1 second'`;

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

export interface ListFilter {
  purpose?: Purpose;
  subjectId?: string;
  classroomId?: string;
  status?: MediaStatus;
  createdAfter?: string;
  createdBefore?: string;
  sha256?: string;
  /** Perceptual hash to compare against, with the Hamming distance that counts as a duplicate. */
  nearPhash?: { phash: string; maxDistance: number; excludeId: string };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Eb = ExpressionBuilder<Database, 'media'>;

/**
 * What takes up space, for the quota check and the usage figures alike (they must agree): stored
 * sizes of processed items, declared sizes of unfinished ones, of pending, processing and ready
 * rows. The `media_usage` counters hold exactly that (kept by the database on every change), a
 * figure being the sum of its shards.
 */
const BYTES_HELD = sql<string>`sum(stored_bytes + reserved_bytes)`;

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

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url');
const decodeCursor = (cursor: string): string | null => {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[0-9a-f-]{36}$/.test(id) ? id : null;
};

/** The read grants of a principal as one SQL predicate, so a page is filtered before LIMIT. */
function visibleTo(eb: Eb, scope: ReadScope): Expression<SqlBool> {
  const grants = scope.grants.map((grant) => {
    const relations = grant.relations.map((relation) => {
      switch (relation) {
        case 'self':
          // As relationsOf: a person is the subject or the uploader; a service only the uploader.
          return scope.kind === 'human'
            ? eb.or([
                sql<SqlBool>`${scope.sub} = any(subject_ids)`,
                eb.and([eb('uploadedBy', '=', scope.sub), eb('uploadedBy', 'not in', [...SERVICES])]),
              ])
            : eb('uploadedBy', '=', scope.sub);
        case 'classroom':
          return scope.classrooms.length > 0 ? eb('classroomId', 'in', [...scope.classrooms]) : eb.lit(false);
        default:
          // 'tenant': the whole school.
          return eb.lit(true);
      }
    });
    return eb.and([eb('purpose', 'in', [...grant.purposes]), eb.or(relations)]);
  });
  return eb.and([eb('tenant', '=', scope.tenant), grants.length > 0 ? eb.or(grants) : eb.lit(false)]);
}

/**
 * Every state change is one conditional UPDATE: the row's current state is part of the WHERE,
 * so concurrent callers cannot both win, and no row back means "someone else got there first".
 */
export class MediaRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createPending(item: NewPendingMedia): Promise<MediaRow> {
    return this.db
      .insertInto('media')
      .values({ ...item, subjectId: item.subjectIds[0] ?? null, status: 'pending', variants: '[]' })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Any row by id, whatever its state: for the processor and the sweeper, never for callers. */
  async findById(id: string): Promise<MediaRow | undefined> {
    return this.db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A row as callers may see it: in their tenant and not deleted. */
  async findInTenant(tenant: string, id: string): Promise<MediaRow | undefined> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('id', '=', id)
      .where('tenant', '=', tenant)
      .where('status', '<>', 'deleted')
      .executeTakeFirst();
  }

  /** The items of one tenant among some ids (a gallery's batch of URLs), in one primary-key lookup. */
  async findManyInTenant(tenant: string, ids: readonly string[]): Promise<MediaRow[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('id', 'in', [...ids])
      .where('tenant', '=', tenant)
      .where('status', '<>', 'deleted')
      .execute();
  }

  /** When each of an uploader's counting unfinished uploads stops counting (its POST expiry), soonest first. */
  async pendingUploadExpiries(tenant: string, uploadedBy: string): Promise<Date[]> {
    // Every pending row of the uploader from their own index; the expired ones (until the sweeper
    // gets to them) are dropped here, so no plan can prefer walking all pending rows by expiry.
    const rows = await this.db
      .selectFrom('media')
      .select(['uploadExpiresAt', sql<boolean>`upload_expires_at > now()`.as('counts')])
      .where('tenant', '=', tenant)
      .where('uploadedBy', '=', uploadedBy)
      .where('status', '=', 'pending')
      .execute();
    return rows
      .filter((r) => r.counts)
      .map((r) => new Date(r.uploadExpiresAt))
      .sort((a, b) => a.getTime() - b.getTime());
  }

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
    const rows = items.map((item) => ({
      id: item.id,
      tenant: item.tenant,
      purpose: item.purpose,
      subject_id: item.subjectIds[0] ?? null,
      classroom_id: item.classroomId,
      uploaded_by: item.uploadedBy,
      content_type: item.contentType,
      declared_size: item.declaredSize,
      filename: item.filename,
      upload_expires_at: item.uploadExpiresAt.toISOString(),
      kind: item.kind ?? 'image',
      multipart_upload_id: item.multipartUploadId ?? null,
      part_size: item.partSize ?? null,
      part_count: item.partCount ?? null,
    }));
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

  /** Bytes a tenant holds or has reserved: stored sizes, or declared sizes of unfinished uploads. */
  async tenantBytes(tenant: string): Promise<number> {
    // The school's figure is the sum of its shards.
    const row = await this.db
      .selectFrom('mediaUsage')
      .select(BYTES_HELD.as('bytes'))
      .where('tenant', '=', tenant)
      .where('scope', '=', 'school')
      .where('key', '=', '')
      .executeTakeFirst();
    return Number(row?.bytes ?? 0);
  }

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
    // With an audit entry, the tombstone and its audit row commit together or not at all.
    return this.inTransactionIf(audit, async (db) => {
      const row = await db
        .updateTable('media')
        .set(tombstone(deletedBy, announceLeaseSeconds))
        .where('id', '=', id)
        .where('tenant', '=', tenant)
        .where('status', '<>', 'deleted')
        .where('legalHold', '=', false)
        .returningAll()
        .executeTakeFirst();
      if (row && audit) await appendAudit(db, audit);
      return row;
    });
  }

  private async inTransactionIf<T>(audit: NewAuditEntry | undefined, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return audit ? this.db.transaction().execute(work) : work(this.db);
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
   * The uploader's multipart upload is assembled: pending → processing with a lease that has
   * already run out, so the record says the upload is done while the processor (its S3 event, or
   * the sweeper) claims it as any lapsed lease. Only for this uploader and this S3 upload.
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

  async setLegalHold(tenant: string, id: string, hold: boolean, audit?: NewAuditEntry): Promise<MediaRow | undefined> {
    return this.inTransactionIf(audit, async (db) => {
      const row = await db
        .updateTable('media')
        .set({ legalHold: hold, updatedAt: sql<Date>`now()` })
        .where('id', '=', id)
        .where('tenant', '=', tenant)
        .where('status', '<>', 'deleted')
        .returningAll()
        .executeTakeFirst();
      if (row && audit) await appendAudit(db, audit);
      return row;
    });
  }

  /**
   * Uploads that never arrived: pending past their POST expiry plus a grace period, oldest first,
   * at most `batch` per statement (a large backlog is expired over several calls).
   */
  async expireStalePending(graceSeconds: number, batch = 500): Promise<MediaRow[]> {
    return this.db
      .updateTable('media')
      .set({ status: 'expired', updatedAt: sql<Date>`now()` })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('media')
          .select('id')
          .where('status', '=', 'pending')
          .where('uploadExpiresAt', '<', sql<Date>`now() - ${graceSeconds} * interval '1 second'`)
          .orderBy('uploadExpiresAt')
          .limit(batch),
      )
      .where('status', '=', 'pending')
      .returningAll()
      .execute();
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

  async listVisible(scope: ReadScope, filter: ListFilter, limit: number, cursor?: string): Promise<Page<MediaRow>> {
    let after: string | undefined;
    if (cursor) {
      const decoded = decodeCursor(cursor);
      if (decoded === null) return { items: [], nextCursor: null };
      after = decoded;
    }
    const filtered = <Q extends SelectQueryBuilder<Database, 'media', object>>(query: Q): Q => {
      let q = query.where('tenant', '=', scope.tenant).where('status', '<>', 'deleted');
      if (filter.purpose) q = q.where('purpose', '=', filter.purpose);
      if (filter.subjectId) q = q.where(namesSubject(scope.tenant, filter.subjectId));
      if (filter.classroomId) q = q.where('classroomId', '=', filter.classroomId);
      if (filter.status) q = q.where('status', '=', filter.status);
      if (filter.createdAfter) q = q.where('createdAt', '>', new Date(filter.createdAfter));
      if (filter.createdBefore) q = q.where('createdAt', '<', new Date(filter.createdBefore));
      if (filter.sha256) q = q.where('sha256', '=', filter.sha256);
      if (after) q = q.where('id', '<', after);
      return q as Q;
    };

    let query: SelectQueryBuilder<Database, 'media', MediaRow>;
    if (filter.nearPhash || filter.sha256) {
      // Few candidates (by hash, from their indexes): check the grants on each of them.
      query = filtered(this.db.selectFrom('media').selectAll()).where((eb) => visibleTo(eb, scope));
      if (filter.nearPhash) {
        const { phash, maxDistance, excludeId } = filter.nearPhash;
        const bands = nearHashBands(phash, maxDistance);
        if (bands === null) return { items: [], nextCursor: null };
        query = query
          .where('phash', 'is not', null)
          .where('id', '<>', excludeId)
          .where((eb) => eb.or(bands.map((values, n) => eb(BAND_COLUMNS[n]!, 'in', values))))
          .where(sql<boolean>`bit_count(('x' || phash)::bit(64) # ('x' || ${phash})::bit(64)) <= ${maxDistance}`);
      }
    } else {
      const branches = branchesOf(scope, filter.purpose);
      if (branches.length === 0) return { items: [], nextCursor: null };
      // Each branch reads one index in id order and stops after a page; the page is the newest
      // of the ids they found together (UNION: a row two branches found counts once), and only
      // those rows are read in full.
      const branchQuery = <Q extends SelectQueryBuilder<Database, 'media', object>>(base: Q, branch: Branch): Q => {
        let q: SelectQueryBuilder<Database, 'media', object> = filtered(base);
        if (branch.purposes.length < PURPOSES.length) {
          q = branch.purposes.length === 1 ? q.where('purpose', '=', branch.purposes[0]!) : q.where('purpose', 'in', [...branch.purposes]);
        }
        if (branch.key?.column === 'subject') q = q.where(namesSubject(scope.tenant, branch.key.value));
        else if (branch.key) q = q.where(branch.key.column, '=', branch.key.value);
        return q as Q;
      };
      if (branches.length > 1) {
        const ids = branches.map((branch) =>
          branchQuery(this.db.selectFrom('media').select('id'), branch)
            .orderBy('id', 'desc')
            .limit(limit + 1),
        );
        const rows = await this.db
          .selectFrom('media')
          .selectAll()
          .where('tenant', '=', scope.tenant)
          .where('id', 'in', sql<string>`(${sql.join(ids, sql` union `)})`)
          .orderBy('id', 'desc')
          .limit(limit + 1)
          .execute();
        return pageOf(rows, limit);
      }
      query = branchQuery(this.db.selectFrom('media').selectAll(), branches[0]!);
    }
    // Newest first; ids are UUIDv7, so id order is creation order and a unique, stable key.
    return pageOf(
      await query
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute(),
      limit,
    );
  }

  /** Usage figures from the counters: one row per purpose or subject ('' for none) holding space. */
  async usage(tenant: string, groupBy: 'purpose' | 'subject'): Promise<{ key: string; count: number; bytes: number }[]> {
    // A figure is the sum of its shards (one row for a subject, several for a purpose or no subject),
    // summed in key order straight from the counters' primary key.
    const rows = await this.db
      .selectFrom('mediaUsage')
      .select(['key', sql<string>`sum(count)`.as('count'), BYTES_HELD.as('bytes')])
      .where('tenant', '=', tenant)
      .where('scope', '=', groupBy)
      .groupBy('key')
      .having(sql`sum(count)`, '>', 0)
      // Code-point order (as before on a C.UTF-8 database), without the cost of a locale's comparison.
      .orderBy(sql`key collate "C"`)
      .execute();
    return rows.map((r) => ({ key: r.key, count: Number(r.count), bytes: Number(r.bytes) }));
  }
}

/** A page from up to `limit + 1` rows in cursor order: the extra row only says there is more. */
function pageOf(rows: MediaRow[], limit: number): Page<MediaRow> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

/** The items of a school that name a person, from the index by person (tenant, subject, media). */
const namesSubject = (tenant: string, subjectId: string) =>
  sql<SqlBool>`id in (select media_id from media_subjects where tenant = ${tenant} and subject_id = ${subjectId})`;

const BAND_COLUMNS = ['phashBand0', 'phashBand1', 'phashBand2', 'phashBand3'] as const;

/** One index-ordered part of a principal's scope: some purposes, of the school or of one key. */
interface Branch {
  purposes: readonly Purpose[];
  /** `subject`: the items naming a person (from `media_subjects`); else a column of `media`. */
  key?: { column: 'subject' | 'uploadedBy' | 'classroomId'; value: string };
}

/**
 * The read grants as branches that each match one index (`tenant, <key>, id` or `tenant, purpose,
 * id`): `self` is two (about the caller, uploaded by the caller), `classroom` one per classroom,
 * `tenant` one for all purposes or one per purpose. A purpose filter narrows them first.
 */
function branchesOf(scope: ReadScope, onlyPurpose?: Purpose): Branch[] {
  const branches: Branch[] = [];
  const wholeSchool = new Set<Purpose>();
  for (const grant of scope.grants) {
    const purposes = grant.purposes.filter((p) => !onlyPurpose || p === onlyPurpose);
    if (purposes.length === 0) continue;
    for (const relation of grant.relations) {
      switch (relation) {
        case 'self':
          branches.push({ purposes, key: { column: 'subject', value: scope.sub } });
          branches.push({ purposes, key: { column: 'uploadedBy', value: scope.sub } });
          break;
        case 'classroom':
          for (const classroom of new Set(scope.classrooms)) branches.push({ purposes, key: { column: 'classroomId', value: classroom } });
          break;
        case 'tenant':
          for (const p of purposes) wholeSchool.add(p);
          break;
      }
    }
  }
  const everything = onlyPurpose ? wholeSchool.has(onlyPurpose) : PURPOSES.every((p) => wholeSchool.has(p));
  if (everything) return [{ purposes: onlyPurpose ? [onlyPurpose] : PURPOSES }];
  // What the whole-school grants cover needs no narrower branch.
  const narrower = branches
    .map((b) => ({ ...b, purposes: b.purposes.filter((p) => !wholeSchool.has(p)) }))
    .filter((b) => b.purposes.length > 0);
  return [...[...wholeSchool].map((p) => ({ purposes: [p] })), ...narrower];
}
