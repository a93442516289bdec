import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import { SERVICES, type MediaStatus, type Purpose, type ReadScope, type RejectionCode, type StoredVariant } from '@media/core';
import type { Database, MediaRow } from './database';

export interface NewPendingMedia {
  id: string;
  tenant: string;
  purpose: Purpose;
  subjectId: string | null;
  classroomId: string | null;
  uploadedBy: string;
  contentType: string;
  declaredSize: number;
  filename: string | null;
  uploadExpiresAt: Date;
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
 * What takes up a school's space, for the quota check and the usage figures alike (they must agree):
 * stored sizes of processed items, declared sizes of unfinished ones.
 */
const HOLDING_SPACE: MediaStatus[] = ['pending', 'processing', 'ready'];
const BYTES_HELD = sql<number>`coalesce(sum(coalesce(size, declared_size)), 0)::bigint`;

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
            ? eb.or([eb('subjectId', '=', scope.sub), eb.and([eb('uploadedBy', '=', scope.sub), eb('uploadedBy', 'not in', [...SERVICES])])])
            : eb('uploadedBy', '=', scope.sub);
        case 'classroom':
          return scope.classrooms.length > 0 ? eb('classroomId', 'in', [...scope.classrooms]) : eb.lit(false);
        case 'tenant':
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
      .values({ ...item, status: 'pending', variants: '[]' })
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

  /** Unfinished uploads of one uploader that still count against the limit (not past their expiry). */
  async countPending(tenant: string, uploadedBy: string): Promise<number> {
    const row = await this.db
      .selectFrom('media')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant', '=', tenant)
      .where('uploadedBy', '=', uploadedBy)
      .where('status', '=', 'pending')
      .where('uploadExpiresAt', '>', sql<Date>`now()`)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** When each of an uploader's counting unfinished uploads stops counting (its POST expiry), soonest first. */
  async pendingUploadExpiries(tenant: string, uploadedBy: string): Promise<Date[]> {
    const rows = await this.db
      .selectFrom('media')
      .select('uploadExpiresAt')
      .where('tenant', '=', tenant)
      .where('uploadedBy', '=', uploadedBy)
      .where('status', '=', 'pending')
      .where('uploadExpiresAt', '>', sql<Date>`now()`)
      .orderBy('uploadExpiresAt')
      .execute();
    return rows.map((r) => new Date(r.uploadExpiresAt));
  }

  /**
   * Runs `work` in a transaction holding the tenant's upload lock, so the limit checks and the
   * inserts they allow cannot interleave with another request's (no over-booking by racing).
   */
  async withUploadLock<T>(tenant: string, work: (media: MediaRepository) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${`media-uploads/${tenant}`}, 0))`.execute(trx);
      return work(new MediaRepository(trx));
    });
  }

  /** Bytes a tenant holds or has reserved: stored sizes, or declared sizes of unfinished uploads. */
  async tenantBytes(tenant: string): Promise<number> {
    const row = await this.db
      .selectFrom('media')
      .select(BYTES_HELD.as('bytes'))
      .where('tenant', '=', tenant)
      .where('status', 'in', HOLDING_SPACE)
      .executeTakeFirstOrThrow();
    return Number(row.bytes);
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
        eb.or([
          eb('status', '=', 'pending'),
          eb.and([eb('status', '=', 'processing'), eb('leaseExpiresAt', '<', sql<Date>`now()`)]),
        ]),
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
  async markDeleted(tenant: string, id: string, deletedBy: string, announceLeaseSeconds?: number): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set({
        status: 'deleted',
        deletedAt: sql<Date>`now()`,
        deletedBy,
        // A worker holding a live lease may still write objects until it ends (the lease outlasts
        // the function's timeout); the SET sees the row as it was before this update.
        purgeAfter: sql<Date>`case when status = 'processing' and lease_expires_at > now() then lease_expires_at else now() end`,
        leaseExpiresAt: announceLeaseSeconds ? leaseUntil(announceLeaseSeconds) : null,
        leaseOwner: sql<string>`gen_random_uuid()::text`,
        eventPublishedAt: null,
        updatedAt: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .where('tenant', '=', tenant)
      .where('status', '<>', 'deleted')
      .where('legalHold', '=', false)
      .returningAll()
      .executeTakeFirst();
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

  /** Uploads nobody is moving on: pending past their POST expiry plus grace, or processing with a lapsed lease. */
  async listStalled(graceSeconds: number, limit: number): Promise<MediaRow[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([
            eb('status', '=', 'pending'),
            eb('uploadExpiresAt', '<', sql<Date>`now() - ${graceSeconds} * interval '1 second'`),
          ]),
          eb.and([eb('status', '=', 'processing'), eb('leaseExpiresAt', '<', sql<Date>`now()`)]),
        ]),
      )
      .orderBy('uploadExpiresAt')
      .limit(limit)
      .execute();
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

  async setLegalHold(tenant: string, id: string, hold: boolean): Promise<MediaRow | undefined> {
    return this.db
      .updateTable('media')
      .set({ legalHold: hold, updatedAt: sql<Date>`now()` })
      .where('id', '=', id)
      .where('tenant', '=', tenant)
      .where('status', '<>', 'deleted')
      .returningAll()
      .executeTakeFirst();
  }

  /** Uploads that never arrived: pending past their POST expiry plus a grace period. */
  async expireStalePending(graceSeconds: number): Promise<MediaRow[]> {
    return this.db
      .updateTable('media')
      .set({ status: 'expired', updatedAt: sql<Date>`now()` })
      .where('status', '=', 'pending')
      .where('uploadExpiresAt', '<', sql<Date>`now() - ${graceSeconds} * interval '1 second'`)
      .returningAll()
      .execute();
  }

  /** Rows to hand back to the processor: pending or processing (any lease), e.g. after a restart. */
  async listUnfinished(limit = 500): Promise<MediaRow[]> {
    return this.db
      .selectFrom('media')
      .selectAll()
      .where('status', 'in', ['pending', 'processing'])
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async listVisible(scope: ReadScope, filter: ListFilter, limit: number, cursor?: string): Promise<Page<MediaRow>> {
    let query = this.db
      .selectFrom('media')
      .selectAll()
      .where((eb) => visibleTo(eb, scope))
      .where('status', '<>', 'deleted');
    if (filter.purpose) query = query.where('purpose', '=', filter.purpose);
    if (filter.subjectId) query = query.where('subjectId', '=', filter.subjectId);
    if (filter.classroomId) query = query.where('classroomId', '=', filter.classroomId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.createdAfter) query = query.where('createdAt', '>', new Date(filter.createdAfter));
    if (filter.createdBefore) query = query.where('createdAt', '<', new Date(filter.createdBefore));
    if (filter.sha256) query = query.where('sha256', '=', filter.sha256);
    if (filter.nearPhash) {
      const { phash, maxDistance, excludeId } = filter.nearPhash;
      query = query
        .where('phash', 'is not', null)
        .where('id', '<>', excludeId)
        .where(sql<boolean>`bit_count(('x' || phash)::bit(64) # ('x' || ${phash})::bit(64)) <= ${maxDistance}`);
    }
    if (cursor) {
      const after = decodeCursor(cursor);
      if (after === null) return { items: [], nextCursor: null };
      query = query.where('id', '<', after);
    }
    // Newest first; ids are UUIDv7, so id order is creation order and a unique, stable key.
    const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
  }

  async usage(tenant: string, groupBy: 'purpose' | 'subject'): Promise<{ key: string; count: number; bytes: number }[]> {
    const column = groupBy === 'purpose' ? sql.ref('purpose') : sql`coalesce(subject_id, '')`;
    const rows = await this.db
      .selectFrom('media')
      .select([
        sql<string>`${column}`.as('key'),
        sql<number>`count(*)::bigint`.as('count'),
        BYTES_HELD.as('bytes'),
      ])
      .where('tenant', '=', tenant)
      .where('status', 'in', HOLDING_SPACE)
      .groupBy(sql`1`)
      .orderBy(sql`1`)
      .execute();
    return rows.map((r) => ({ key: r.key, count: Number(r.count), bytes: Number(r.bytes) }));
  }
}
