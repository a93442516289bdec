import { sql, type Expression, type ExpressionBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import { PURPOSES, SERVICES, type MediaStatus, type Purpose, type ReadScope } from '@media/core';
import { RECORD_COLUMNS, type Database, type MediaRow, type RecordRow } from './database';
import { type Page, RowStore } from './media-rows';
import { nearHashBands } from './phash-bands';

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

type Eb = ExpressionBuilder<Database, 'media'>;

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

/** Media rows as they are read: by id, within a school, and the pages a principal may see. */
export class MediaReads extends RowStore {
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

  async listVisible(scope: ReadScope, filter: ListFilter, limit: number, cursor?: string): Promise<Page<RecordRow>> {
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

    let query: SelectQueryBuilder<Database, 'media', RecordRow>;
    if (filter.nearPhash || filter.sha256) {
      // Few candidates (by hash, from their indexes): check the grants on each of them.
      query = filtered(this.db.selectFrom('media').select(RECORD_COLUMNS)).where((eb) => visibleTo(eb, scope));
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
          .select(RECORD_COLUMNS)
          .where('tenant', '=', scope.tenant)
          .where('id', 'in', sql<string>`(${sql.join(ids, sql` union `)})`)
          .orderBy('id', 'desc')
          .limit(limit + 1)
          .execute();
        return pageOf(rows, limit);
      }
      query = branchQuery(this.db.selectFrom('media').select(RECORD_COLUMNS), branches[0]!);
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
}

/** A page from up to `limit + 1` rows in cursor order: the extra row only says there is more. */
function pageOf(rows: RecordRow[], limit: number): Page<RecordRow> {
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
