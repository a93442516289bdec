import { sql, type Kysely } from 'kysely';
import { RESERVE_UPLOADS_FUNCTION } from './0004-usage-counters';

const sqlKind = sql`kind in ('image', 'video')`;

/**
 * Large media. A multipart upload's S3 upload id and its plan (part size and count) stay with the
 * row, so only the uploader's calls name it and the sweeper can abort it once it expires. Videos
 * are media like photos: `kind` says which, `duration_seconds` is a video's length from its bytes.
 * Sizes become bigint: a video may be 2 GiB and more, past what an integer holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table media alter column declared_size type bigint, alter column size type bigint`.execute(db);
  await db.schema
    .alterTable('media')
    .addColumn('multipart_upload_id', 'text')
    .addColumn('part_size', 'bigint')
    .addColumn('part_count', 'integer')
    .addColumn('kind', 'text', (col) => col.notNull().defaultTo('image').check(sqlKind))
    .addColumn('duration_seconds', 'double precision')
    .execute();
  // The reservation writes the new columns too, and sizes past 2^31.
  await sql.raw(RESERVE_UPLOADS_WITH_MULTIPART).execute(db);
}

/**
 * `media_reserve_uploads` as of this migration: 0004's, also inserting a multipart upload's id and
 * plan and the kind, with bigint sizes. Written out whole, so this migration means the same
 * whatever later migrations do to the function.
 */
export const RESERVE_UPLOADS_WITH_MULTIPART = `
create or replace function media_reserve_uploads(items jsonb, school_quota bigint, person_cap bigint, max_pending integer)
returns void language plpgsql as $$
declare
  t text := items->0->>'tenant';
  u text := items->0->>'uploaded_by';
  ids uuid[];
  school bigint;
  person bigint;
  expiries jsonb;
begin
  -- The commit does not wait for the WAL flush: the school's counter row is released at once
  -- rather than after a disk write. A reservation lost to a server crash in that instant is an
  -- upload whose POST finds no row: its object is never processed nor readable, and the
  -- incoming/ lifecycle rule removes it; the client sees it never became ready and uploads again.
  perform set_config('synchronous_commit', 'off', true);
  insert into media (id, tenant, purpose, status, subject_id, classroom_id, uploaded_by, content_type,
                     declared_size, filename, upload_expires_at, variants, kind, multipart_upload_id, part_size, part_count)
  select (x->>'id')::uuid, x->>'tenant', x->>'purpose', 'pending', x->>'subject_id', x->>'classroom_id', x->>'uploaded_by',
         x->>'content_type', (x->>'declared_size')::bigint, x->>'filename', (x->>'upload_expires_at')::timestamptz, '[]'::jsonb,
         coalesce(x->>'kind', 'image'), x->>'multipart_upload_id', (x->>'part_size')::bigint, (x->>'part_count')::integer
  from jsonb_array_elements(items) x;
  select array_agg((x->>'id')::uuid) into ids from jsonb_array_elements(items) x;
  select stored_bytes + reserved_bytes into school from media_usage where tenant = t and scope = 'school' and key = '';
  select stored_bytes + reserved_bytes into person from media_usage where tenant = t and scope = 'uploader' and key = u;
  -- The uploader's other unfinished uploads that still count (from the uploader's own index).
  select coalesce(jsonb_agg(upload_expires_at order by upload_expires_at) filter (where upload_expires_at > now() and id <> all(ids)), '[]')
    into expiries from media where tenant = t and uploaded_by = u and status = 'pending';
  if jsonb_array_length(expiries) + jsonb_array_length(items) > max_pending
     or school > school_quota
     or (person_cap is not null and person > person_cap) then
    raise exception using errcode = 'MR001', message = 'upload limits exceeded',
      detail = jsonb_build_object('school', school, 'person', coalesce(person, 0), 'pendingExpiries', expiries)::text;
  end if;
end $$`;

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(RESERVE_UPLOADS_FUNCTION).execute(db);
  await sql`alter table media alter column declared_size type integer, alter column size type integer`.execute(db);
  await db.schema
    .alterTable('media')
    .dropColumn('multipart_upload_id')
    .dropColumn('part_size')
    .dropColumn('part_count')
    .dropColumn('kind')
    .dropColumn('duration_seconds')
    .execute();
}
