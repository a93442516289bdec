import { sql, type Kysely } from 'kysely';
import type { MediaStatus, Purpose } from '@media/core';
import { appendAudit } from './access-audit';
import type { Database, MediaRow, NewAuditEntry, RightsJobRow } from './database';
import { tombstone } from './media-rows';

export interface Consent {
  recognition: boolean;
  training: boolean;
  updatedAt: Date | null;
  updatedBy: string | null;
}

const NO_CONSENT: Consent = { recognition: false, training: false, updatedAt: null, updatedBy: null };

export interface NewRightsJob {
  id: string;
  tenant: string;
  subjectId: string;
  kind: 'erasure' | 'export';
  requestedBy: string;
  requesterRole: string;
  /** The purposes the job covers: what the requester may read throughout the school. */
  purposes: readonly Purpose[];
}

export interface ErasureBatch {
  job: RightsJobRow;
  /** Rows tombstoned by this batch: their events and purges follow (the caller, else the sweeper). */
  deleted: MediaRow[];
}

/** The rows of the rights: consent, erasure and export jobs, retention. */
export class RightsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async consentOf(tenant: string, subjectId: string): Promise<Consent> {
    const row = await this.db
      .selectFrom('subjectConsent')
      .select(['recognition', 'training', 'updatedAt', 'updatedBy'])
      .where('tenant', '=', tenant)
      .where('subjectId', '=', subjectId)
      .executeTakeFirst();
    return row ?? NO_CONSENT;
  }

  /** The consent of several people at once (a photo naming a class); anyone absent was never asked. */
  async consentsOf(tenant: string, subjectIds: readonly string[]): Promise<Map<string, Consent>> {
    if (subjectIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('subjectConsent')
      .select(['subjectId', 'recognition', 'training', 'updatedAt', 'updatedBy'])
      .where('tenant', '=', tenant)
      .where('subjectId', 'in', [...subjectIds])
      .execute();
    return new Map(rows.map(({ subjectId, ...consent }) => [subjectId, consent]));
  }

  /**
   * Records a consent and its audit row in one transaction. A field left out keeps its value (read
   * under the row's lock, so two concurrent partial changes both land). Gives back the consent
   * before and after.
   */
  async setConsent(
    tenant: string,
    subjectId: string,
    change: { recognition?: boolean; training?: boolean },
    updatedBy: string,
    audit: NewAuditEntry,
  ): Promise<{ before: Consent; after: Consent }> {
    return this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('subjectConsent')
        .select(['recognition', 'training', 'updatedAt', 'updatedBy'])
        .where('tenant', '=', tenant)
        .where('subjectId', '=', subjectId)
        .forUpdate()
        .executeTakeFirst();
      const consent = {
        recognition: change.recognition ?? before?.recognition ?? NO_CONSENT.recognition,
        training: change.training ?? before?.training ?? NO_CONSENT.training,
      };
      const named = {
        ...(change.recognition === undefined ? {} : { recognition: change.recognition }),
        ...(change.training === undefined ? {} : { training: change.training }),
      };
      const after = await trx
        .insertInto('subjectConsent')
        .values({ tenant, subjectId, ...consent, updatedBy, updatedAt: sql<Date>`now()` })
        // A row inserted meanwhile by another change: only the fields named here move.
        .onConflict((oc) => oc.columns(['tenant', 'subjectId']).doUpdateSet({ ...named, updatedBy, updatedAt: sql<Date>`now()` }))
        .returning(['recognition', 'training', 'updatedAt', 'updatedBy'])
        .executeTakeFirstOrThrow();
      await appendAudit(trx, audit);
      return { before: before ?? NO_CONSENT, after };
    });
  }

  /**
   * Starts a job, or gives back the one already running for this person, kind and scope (so asking
   * twice starts nothing new), with its audit row; an erasure also clears the consent at once.
   */
  async startJob(job: NewRightsJob, audit: NewAuditEntry): Promise<{ job: RightsJobRow; started: boolean }> {
    const purposes = [...job.purposes];
    return this.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('rightsJob')
        .values({ ...job, purposes })
        .onConflict((oc) => oc.columns(['tenant', 'subjectId', 'kind', 'purposes']).where('status', '=', 'running').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!inserted) {
        const running = await trx
          .selectFrom('rightsJob')
          .selectAll()
          .where('tenant', '=', job.tenant)
          .where('subjectId', '=', job.subjectId)
          .where('kind', '=', job.kind)
          // Compared as one array (a bare array would become a list of values).
          .where(sql<boolean>`purposes = ${sql.val(purposes)}::text[]`)
          .where('status', '=', 'running')
          .executeTakeFirstOrThrow();
        return { job: running, started: false };
      }
      await appendAudit(trx, audit);
      if (job.kind === 'erasure') {
        await trx.deleteFrom('subjectConsent').where('tenant', '=', job.tenant).where('subjectId', '=', job.subjectId).execute();
      }
      return { job: inserted, started: true };
    });
  }

  async findJobById(id: string): Promise<RightsJobRow | undefined> {
    return this.db.selectFrom('rightsJob').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findJob(tenant: string, kind: 'erasure' | 'export', id: string): Promise<RightsJobRow | undefined> {
    return this.db
      .selectFrom('rightsJob')
      .selectAll()
      .where('id', '=', id)
      .where('tenant', '=', tenant)
      .where('kind', '=', kind)
      .executeTakeFirst();
  }

  /**
   * Interrupted jobs: running ones nobody is working on (no live lease, untouched for `idleSeconds`)
   * and finished erasures that still owe their event; oldest first. A job younger than that is its
   * worker's, which the request's message started.
   */
  async listInterrupted(limit: number, idleSeconds: number): Promise<RightsJobRow[]> {
    return this.db
      .selectFrom('rightsJob')
      .selectAll()
      .where((eb) => eb.or([eb('status', '=', 'running'), eb.and([eb('kind', '=', 'erasure'), eb('announcedAt', 'is', null)])]))
      .where((eb) => eb.or([eb('leaseExpiresAt', 'is', null), eb('leaseExpiresAt', '<', sql<Date>`now()`)]))
      .where('updatedAt', '<', sql<Date>`now() - ${idleSeconds} * interval '1 second'`)
      .orderBy('createdAt')
      .limit(limit)
      .execute();
  }

  /**
   * One batch of an erasure, as one transaction: the next `batch` items naming the person, of the
   * job's purposes (in id order after the job's cursor, locked). Under legal hold: kept as they
   * are (counted held back). Naming others too: kept, with the person's name taken off
   * (untagged). Naming the person alone: tombstoned, each delete audited. The job's counters and
   * cursor move with them. A crash before the commit leaves everything as it was; a shorter batch
   * than asked for finishes the job, clears the consent once more (it may have been given again
   * meanwhile) and marks it done.
   */
  async eraseBatch(jobId: string, batch: number): Promise<ErasureBatch | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const job = await trx
        .selectFrom('rightsJob')
        .selectAll()
        .where('id', '=', jobId)
        .where('status', '=', 'running')
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      if (!job) return undefined;
      let query = trx
        .selectFrom('media')
        .innerJoin('mediaSubjects as named', 'named.mediaId', 'media.id')
        .select(['media.id', 'media.legalHold', 'media.subjectIds'])
        .where('named.tenant', '=', job.tenant)
        .where('named.subjectId', '=', job.subjectId)
        .where('media.purpose', 'in', job.purposes)
        .where('media.status', '<>', 'deleted');
      if (job.cursor) query = query.where('named.mediaId', '>', job.cursor);
      const found = await query.orderBy('named.mediaId').limit(batch).forUpdate('media').execute();
      const free = found.filter((row) => !row.legalHold);
      const shared = free.filter((row) => row.subjectIds.some((id) => id !== job.subjectId)).map((row) => row.id);
      const alone = free.filter((row) => !shared.includes(row.id)).map((row) => row.id);
      if (shared.length) {
        await trx
          .updateTable('media')
          .set({ subjectIds: sql<string[]>`array_remove(subject_ids, ${job.subjectId})`, updatedAt: sql<Date>`now()` })
          .where('id', 'in', shared)
          .execute();
      }
      const deleted = alone.length
        ? await trx
            .updateTable('media')
            .set(tombstone('erasure'))
            .where('id', 'in', alone)
            .where('status', '<>', 'deleted')
            .returningAll()
            .execute()
        : [];
      const audit = (action: 'delete' | 'erasure', mediaId: string) => ({
        tenant: job.tenant,
        actor: job.requestedBy,
        actorRole: job.requesterRole,
        action,
        mediaId,
        subjectId: job.subjectId,
        variant: null,
        requestId: `erasure:${job.id}`,
      });
      // An untagged item is audited as the erasure's own line for that item: the person's name left it.
      await appendAudit(trx, [...deleted.map((row) => audit('delete', row.id)), ...shared.map((id) => audit('erasure', id))]);
      const done = found.length < batch;
      if (done) await trx.deleteFrom('subjectConsent').where('tenant', '=', job.tenant).where('subjectId', '=', job.subjectId).execute();
      const updated = await trx
        .updateTable('rightsJob')
        .set({
          cursor: found.length ? found[found.length - 1]!.id : job.cursor,
          total: sql<number>`total + ${found.length}`,
          deleted: sql<number>`deleted + ${deleted.length}`,
          untagged: sql<number>`untagged + ${shared.length}`,
          heldBack: sql<number>`held_back + ${found.length - free.length}`,
          status: done ? 'done' : 'running',
          completedAt: done ? sql<Date>`now()` : null,
          updatedAt: sql<Date>`now()`,
        })
        .where('id', '=', job.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { job: updated, deleted };
    });
  }

  /** A finished erasure whose event the caller has just sent: true the first time only. */
  async markErasureAnnounced(jobId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('rightsJob')
      .set({ announcedAt: sql<Date>`now()` })
      .where('id', '=', jobId)
      .where('kind', '=', 'erasure')
      .where('status', '=', 'done')
      .where('announcedAt', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Claims a job for one worker for `leaseSeconds` (an export runs in one go): no row back, someone else has it. */
  async claimJob(jobId: string, leaseSeconds: number): Promise<RightsJobRow | undefined> {
    return this.db
      .updateTable('rightsJob')
      .set({ leaseExpiresAt: sql<Date>`now() + ${leaseSeconds} * interval '1 second'`, updatedAt: sql<Date>`now()` })
      .where('id', '=', jobId)
      .where('status', '=', 'running')
      .where((eb) => eb.or([eb('leaseExpiresAt', 'is', null), eb('leaseExpiresAt', '<', sql<Date>`now()`)]))
      .returningAll()
      .executeTakeFirst();
  }

  async finishExport(jobId: string, result: { items: number; bytes: number; objectKey: string }): Promise<RightsJobRow | undefined> {
    return this.db
      .updateTable('rightsJob')
      .set({ ...result, status: 'done', completedAt: sql<Date>`now()`, leaseExpiresAt: null, updatedAt: sql<Date>`now()` })
      .where('id', '=', jobId)
      .where('status', '=', 'running')
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Items naming a person that are not deleted (of the given purposes and status if any), in id
   * order after `after`, from the index by person.
   */
  async itemsAbout(
    tenant: string,
    subjectId: string,
    options: { purposes?: readonly Purpose[]; status?: MediaStatus; after: string | null; limit: number },
  ): Promise<MediaRow[]> {
    let query = this.db
      .selectFrom('media')
      .innerJoin('mediaSubjects as named', 'named.mediaId', 'media.id')
      .selectAll('media')
      .where('named.tenant', '=', tenant)
      .where('named.subjectId', '=', subjectId)
      .where('media.status', '<>', 'deleted');
    if (options.purposes) query = query.where('media.purpose', 'in', [...options.purposes]);
    if (options.status) query = query.where('media.status', '=', options.status);
    if (options.after) query = query.where('named.mediaId', '>', options.after);
    return query.orderBy('named.mediaId').limit(options.limit).execute();
  }

  /**
   * One retention batch of a purpose: items uploaded before `cutoff`, not deleted, not under legal
   * hold, oldest first, tombstoned as by DELETE (`deletedBy: retention`) with their audit rows, in
   * one transaction. Rows another transaction holds are left for the next batch.
   */
  async expireBatch(purpose: Purpose, cutoff: Date, batch: number): Promise<MediaRow[]> {
    return this.db.transaction().execute(async (trx) => {
      const expired = await trx
        .updateTable('media')
        .set(tombstone('retention'))
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('media')
            .select('id')
            .where('purpose', '=', purpose)
            .where('status', '<>', 'deleted')
            .where('createdAt', '<', cutoff)
            .where('legalHold', '=', false)
            .orderBy('createdAt')
            .limit(batch)
            .forUpdate()
            .skipLocked(),
        )
        .where('status', '<>', 'deleted')
        .where('legalHold', '=', false)
        .returningAll()
        .execute();
      await appendAudit(
        trx,
        expired.map((row) => ({
          tenant: row.tenant,
          actor: 'retention',
          actorRole: 'system',
          action: 'delete' as const,
          mediaId: row.id,
          subjectId: row.subjectId,
          variant: null,
          requestId: null,
        })),
      );
      return expired;
    });
  }

  /** What a school holds of a purpose that was uploaded before `cutoff` (not deleted, not on hold). */
  async expiringSummary(
    tenant: string,
    purpose: Purpose,
    cutoff: Date,
  ): Promise<{ count: number; bytes: number; firstCreatedAt: Date | null }> {
    const row = await this.db
      .selectFrom('media')
      .select([
        sql<number>`count(*)::int`.as('count'),
        sql<number>`coalesce(sum(coalesce(size, declared_size)), 0)::bigint`.as('bytes'),
        sql<Date | null>`min(created_at)`.as('firstCreatedAt'),
      ])
      .where('tenant', '=', tenant)
      .where('purpose', '=', purpose)
      .where('status', '<>', 'deleted')
      .where('legalHold', '=', false)
      .where('createdAt', '<', cutoff)
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), bytes: Number(row.bytes), firstCreatedAt: row.firstCreatedAt ? new Date(row.firstCreatedAt) : null };
  }
}
