import { sql, type Kysely } from 'kysely';
import type { Purpose } from '@media/core';
import type { Database, FaceVariant, MediaFacesRow, NewAuditEntry, SchoolSettingsRow, StoredFace } from './database';

/** The rows of the face stage and the school settings it reads (migration 0012). */
export class FaceRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Takes the item's face work: a new row, or a pending one whose lease ran out, gets a lease and
   * one more attempt. No row back: the work is done, failed, or someone else holds it.
   */
  async claim(tenant: string, mediaId: string, leaseSeconds: number): Promise<MediaFacesRow | undefined> {
    const lease = sql<Date>`now() + ${leaseSeconds} * interval '1 second'`;
    return this.db
      .insertInto('mediaFaces')
      .values({ mediaId, tenant, status: 'pending', attempts: 1, leaseExpiresAt: lease })
      .onConflict((oc) =>
        oc
          .column('mediaId')
          .doUpdateSet({ attempts: sql`media_faces.attempts + 1`, leaseExpiresAt: lease, updatedAt: sql`now()` })
          .where((eb) =>
            eb.and([
              eb('mediaFaces.status', '=', 'pending'),
              eb.or([eb('mediaFaces.leaseExpiresAt', 'is', null), eb('mediaFaces.leaseExpiresAt', '<', sql<Date>`now()`)]),
            ]),
          ),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Records the faces and the stage's derivatives, only while the item is still ready (a delete
   * that came meanwhile wins: the caller then removes what it wrote).
   */
  async complete(mediaId: string, faces: StoredFace[], variants: FaceVariant[]): Promise<MediaFacesRow | undefined> {
    return this.db
      .updateTable('mediaFaces')
      .set({
        status: 'done',
        faces: JSON.stringify(faces),
        variants: JSON.stringify(variants),
        detectedAt: sql`now()`,
        leaseExpiresAt: null,
        updatedAt: sql`now()`,
      })
      .where('mediaId', '=', mediaId)
      .where('status', '=', 'pending')
      .where(({ exists, selectFrom }) =>
        exists(selectFrom('media').select('media.id').where('media.id', '=', mediaId).where('media.status', '=', 'ready')),
      )
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Ready items the face stage owes: never handed to it (a lost message, or media older than the
   * stage), or handed to it and untouched for `idleSeconds` (the job was lost). Each is marked as
   * sent in the same statement, so the next run does not send it again before `idleSeconds`.
   */
  async takeOwed(limit: number, idleSeconds: number): Promise<{ tenant: string; mediaId: string }[]> {
    const idle = sql<Date>`now() - ${idleSeconds} * interval '1 second'`;
    const owed = await this.db
      .selectFrom('media')
      .leftJoin('mediaFaces', 'mediaFaces.mediaId', 'media.id')
      .select(['media.id as mediaId', 'media.tenant'])
      .where('media.status', '=', 'ready')
      .where((eb) =>
        eb.or([
          eb('mediaFaces.mediaId', 'is', null),
          eb.and([
            eb('mediaFaces.status', '=', 'pending'),
            eb('mediaFaces.updatedAt', '<', idle),
            eb.or([eb('mediaFaces.leaseExpiresAt', 'is', null), eb('mediaFaces.leaseExpiresAt', '<', sql<Date>`now()`)]),
          ]),
        ]),
      )
      .orderBy('media.processedAt')
      .limit(limit)
      .execute();
    if (owed.length === 0) return [];
    const marked = await this.db
      .insertInto('mediaFaces')
      .values(owed.map((o) => ({ mediaId: o.mediaId, tenant: o.tenant, status: 'pending' as const })))
      .onConflict((oc) =>
        oc
          .column('mediaId')
          .doUpdateSet({ updatedAt: sql`now()` })
          .where((eb) => eb.and([eb('mediaFaces.status', '=', 'pending'), eb('mediaFaces.updatedAt', '<', idle)])),
      )
      .returning(['mediaId', 'tenant'])
      .execute();
    return marked;
  }

  /** Gives up on an item whose attempts ran out: it stays without faces (and so without crops). */
  async fail(mediaId: string): Promise<void> {
    await this.db
      .updateTable('mediaFaces')
      .set({ status: 'failed', leaseExpiresAt: null, updatedAt: sql`now()` })
      .where('mediaId', '=', mediaId)
      .where('status', '=', 'pending')
      .execute();
  }

  /** Hands the lease back after a transient failure, so the retry need not wait for it. */
  async release(mediaId: string): Promise<void> {
    await this.db
      .updateTable('mediaFaces')
      .set({ leaseExpiresAt: null, updatedAt: sql`now()` })
      .where('mediaId', '=', mediaId)
      .where('status', '=', 'pending')
      .execute();
  }

  async find(mediaId: string): Promise<MediaFacesRow | undefined> {
    return this.db.selectFrom('mediaFaces').selectAll().where('mediaId', '=', mediaId).executeTakeFirst();
  }

  async findMany(tenant: string, mediaIds: readonly string[]): Promise<MediaFacesRow[]> {
    if (mediaIds.length === 0) return [];
    return this.db
      .selectFrom('mediaFaces')
      .selectAll()
      .where('tenant', '=', tenant)
      .where('mediaId', 'in', [...mediaIds])
      .execute();
  }

  /**
   * Drops the listed variants from the record (a withdrawn consent takes the crops): one statement,
   * so a concurrent stage cannot put back what this removed without the consent it reads again.
   */
  async dropVariants(mediaId: string, names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.db
      .updateTable('mediaFaces')
      .set({
        variants: sql`coalesce((select jsonb_agg(v) from jsonb_array_elements(variants) v where not (v->>'name' = any(${sql.val([...names])}::text[]))), '[]'::jsonb)`,
        updatedAt: sql`now()`,
      })
      .where('mediaId', '=', mediaId)
      .execute();
  }

  /**
   * The items naming a person whose face rows hold aligned crops, with what decides them again
   * (purpose, subjects): a withdrawn consent re-reads the rule for each.
   */
  async withCropsNaming(tenant: string, subjectId: string): Promise<(MediaFacesRow & { purpose: Purpose; subjectIds: string[] })[]> {
    return this.db
      .selectFrom('mediaSubjects')
      .innerJoin('mediaFaces', 'mediaFaces.mediaId', 'mediaSubjects.mediaId')
      .innerJoin('media', 'media.id', 'mediaSubjects.mediaId')
      .selectAll('mediaFaces')
      .select(['media.purpose', 'media.subjectIds'])
      .where('mediaSubjects.tenant', '=', tenant)
      .where('mediaSubjects.subjectId', '=', subjectId)
      .where(sql<boolean>`jsonb_path_exists(media_faces.variants, '$[*] ? (@.name starts with "faces/")')`)
      .execute();
  }

  /**
   * The ready items naming a person whose faces were found but hold no aligned crop, with what
   * decides them (purpose, subjects): a consent given after detection re-reads the rule for each.
   */
  async withoutCropsNaming(tenant: string, subjectId: string): Promise<(MediaFacesRow & { purpose: Purpose; subjectIds: string[] })[]> {
    return this.db
      .selectFrom('mediaSubjects')
      .innerJoin('mediaFaces', 'mediaFaces.mediaId', 'mediaSubjects.mediaId')
      .innerJoin('media', 'media.id', 'mediaSubjects.mediaId')
      .selectAll('mediaFaces')
      .select(['media.purpose', 'media.subjectIds'])
      .where('mediaSubjects.tenant', '=', tenant)
      .where('mediaSubjects.subjectId', '=', subjectId)
      .where('media.status', '=', 'ready')
      .where('mediaFaces.status', '=', 'done')
      .where(sql<boolean>`jsonb_array_length(coalesce(media_faces.faces, '[]'::jsonb)) > 0`)
      .where(sql<boolean>`not jsonb_path_exists(media_faces.variants, '$[*] ? (@.name starts with "faces/")')`)
      .execute();
  }

  /**
   * Hands a done item back to the face stage (its crops are now owed): pending again, with fresh
   * attempts and no lease, so the next job (or the sweeper's resend, if that job is lost) runs it.
   */
  async reopen(mediaId: string): Promise<boolean> {
    const row = await this.db
      .updateTable('mediaFaces')
      .set({ status: 'pending', attempts: 0, leaseExpiresAt: null, updatedAt: sql`now()` })
      .where('mediaId', '=', mediaId)
      .where('status', '=', 'done')
      .returning('mediaId')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether the school lets attendance photos be used for recognition (off unless an admin turned it on). */
  async recognitionForAttendance(tenant: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('schoolSettings')
      .select('recognitionForAttendance')
      .where('tenant', '=', tenant)
      .executeTakeFirst();
    return row?.recognitionForAttendance ?? false;
  }

  /** The school's settings as recorded, or undefined while no admin ever set them. */
  async schoolSettings(tenant: string): Promise<SchoolSettingsRow | undefined> {
    return this.db.selectFrom('schoolSettings').selectAll().where('tenant', '=', tenant).executeTakeFirst();
  }

  /** Records the setting, with its audit row when given, in one transaction. */
  async setRecognitionForAttendance(tenant: string, enabled: boolean, by: string, audit?: NewAuditEntry): Promise<SchoolSettingsRow> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('schoolSettings')
        .values({ tenant, recognitionForAttendance: enabled, updatedBy: by })
        .onConflict((oc) => oc.column('tenant').doUpdateSet({ recognitionForAttendance: enabled, updatedBy: by, updatedAt: sql`now()` }))
        .returningAll()
        .executeTakeFirstOrThrow();
      if (audit) await trx.insertInto('accessAudit').values(audit).execute();
      return row;
    });
  }

  /** A school's attendance photos that hold aligned crops (recognition for attendance was turned off). */
  async attendanceWithCrops(tenant: string): Promise<(MediaFacesRow & { purpose: Purpose; subjectIds: string[] })[]> {
    return this.db
      .selectFrom('mediaFaces')
      .innerJoin('media', 'media.id', 'mediaFaces.mediaId')
      .selectAll('mediaFaces')
      .select(['media.purpose', 'media.subjectIds'])
      .where('mediaFaces.tenant', '=', tenant)
      .where('media.purpose', '=', 'attendance')
      .where(sql<boolean>`jsonb_path_exists(media_faces.variants, '$[*] ? (@.name starts with "faces/")')`)
      .execute();
  }
}
