import { sql, type Kysely } from 'kysely';
import { RESERVE_UPLOADS_WITH_MULTIPART } from './0008-multipart-video';

/**
 * A reservation commits durably. 0004 and 0008 let `media_reserve_uploads` commit without waiting
 * for the WAL flush; a crash in that instant lost a reservation whose `201` the caller already had
 * (on PGlite, whose single process has no WAL writer, such a commit was lost on any kill). A `2xx`
 * is a promise that the upload is recorded and will be processed: the function now commits with
 * the server's own setting (`on`), like every other transaction of the service.
 * Written out whole, so this migration means the same whatever later migrations do.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql.raw(RESERVE_UPLOADS_DURABLE).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(RESERVE_UPLOADS_WITH_MULTIPART).execute(db);
}

const RESERVE_UPLOADS_DURABLE = `
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
