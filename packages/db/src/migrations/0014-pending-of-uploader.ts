import { sql, type Kysely } from 'kysely';
import { RESERVE_UPLOADS_SHARDED } from './0010-usage-shards';

/**
 * The unfinished-upload limit reads, on every reservation, the uploader's pending uploads that still
 * count. `media_reserve_uploads` found them with `tenant = t and uploaded_by = u and status =
 * 'pending'`, which three indexes can answer. The function keeps a generic plan, and the planner
 * chose it from statistics that say a school holds almost no pending rows (true between busy
 * moments): it took the index by (tenant, status, id) and read every pending row of the school to
 * keep the uploader's. In a busy hour every reservation of a school then walked all of its
 * unfinished uploads: measured at 1 M rows, 4.3 ms of the database's CPU per reservation instead
 * of about 1.
 *
 * - `media_pending_of_uploader` indexes the pair itself, `array[tenant, uploaded_by]`, then the
 *   expiry, over pending rows only. The function asks by that pair and the status alone: no index
 *   by school can answer that, and the one other index that can (the sweeper's, by status and
 *   expiry, over pending and processing rows) holds every row this one holds and more, so
 *   whatever the statistics say, the uploader's own rows are read and no others.
 * - It replaces `media_pending_by_uploader_expiry` (0004), which nothing else reads.
 * - The function is written out whole (0010's, with the new lookup), so this migration means the
 *   same whatever comes later.
 */
const RESERVE_UPLOADS_BY_UPLOADER = `
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
  insert into media (id, tenant, purpose, status, subject_id, classroom_id, uploaded_by, content_type,
                     declared_size, filename, upload_expires_at, variants, kind, multipart_upload_id, part_size, part_count)
  select (x->>'id')::uuid, x->>'tenant', x->>'purpose', 'pending', x->>'subject_id', x->>'classroom_id', x->>'uploaded_by',
         x->>'content_type', (x->>'declared_size')::bigint, x->>'filename', (x->>'upload_expires_at')::timestamptz, '[]'::jsonb,
         coalesce(x->>'kind', 'image'), x->>'multipart_upload_id', (x->>'part_size')::bigint, (x->>'part_count')::integer
  from jsonb_array_elements(items) x;
  select array_agg((x->>'id')::uuid) into ids from jsonb_array_elements(items) x;
  -- Every shard as last committed, and this reservation's own (its insert holds them).
  select sum(stored_bytes + reserved_bytes) into school from media_usage where tenant = t and scope = 'school' and key = '';
  select sum(stored_bytes + reserved_bytes) into person from media_usage where tenant = t and scope = 'uploader' and key = u;
  -- The uploader's other unfinished uploads that still count, by the pair (media_pending_of_uploader).
  -- The expiry stays out of the condition: there, the sweeper's index by (status, expiry) could
  -- answer it too, reading every pending row of every school.
  select coalesce(jsonb_agg(upload_expires_at order by upload_expires_at) filter (where upload_expires_at > now() and id <> all(ids)), '[]')
    into expiries from media
   where array[tenant, uploaded_by] = array[t, u] and status = 'pending';
  if jsonb_array_length(expiries) + jsonb_array_length(items) > max_pending
     or school > school_quota
     or (person_cap is not null and person > person_cap) then
    raise exception using errcode = 'MR001', message = 'upload limits exceeded',
      detail = jsonb_build_object('school', school, 'person', coalesce(person, 0), 'pendingExpiries', expiries)::text;
  end if;
end $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index media_pending_of_uploader on media ((array[tenant, uploaded_by]), upload_expires_at) where status = 'pending'`.execute(
    db,
  );
  await sql.raw(RESERVE_UPLOADS_BY_UPLOADER).execute(db);
  await sql`drop index media_pending_by_uploader_expiry`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index media_pending_by_uploader_expiry on media (tenant, uploaded_by, upload_expires_at) where status = 'pending'`.execute(
    db,
  );
  await sql.raw(RESERVE_UPLOADS_SHARDED).execute(db);
  await sql`drop index media_pending_of_uploader`.execute(db);
}
