import { sql, type Kysely } from 'kysely';
import { up as durableReservations } from './0009-durable-reservations';

/**
 * The counter rows a whole school shares are split into shards, so a school's uploads no longer
 * wait for each other's commit. Since reservations commit durably (0009), each one holds the rows
 * its insert updated until the WAL flush; with one school row (and one row per purpose) every upload
 * of a school waited for the one before it to reach the disk.
 *
 * - `media_usage` gains `shard`: the rows of the school, of each purpose and of items with no subject
 *   are split into `USAGE_SHARDS` rows; an item's changes go to the shard its id picks
 *   (`media_usage_shard`: the id's last byte, random in a UUIDv7). The rows of one subject and of one
 *   uploader stay whole (shard 0): only that person's uploads share them, and the per-person cap
 *   needs them exact.
 * - A figure is the sum of its shards. Shards are parts of a sum, not counts of particular items:
 *   any split of a total is as good as another, and a shard may go negative (rows counted before
 *   this migration, all in shard 0, later leave their own shard).
 * - `media_reserve_uploads` compares the sum of the school's shards with the quota. A reservation
 *   holds only its own shards, so reservations in other shards, in flight at the same moment, do not
 *   see each other: the school may exceed its quota by what those hold (docs/scale.md says exactly).
 */
export const USAGE_SHARDS = 16;

/** Written out whole (not shared with 0004's), so this migration means the same whatever comes later. */
const HOLDS = `status in ('pending', 'processing', 'ready')`;

/**
 * The counter changes of one set of rows, with a sign: +1 for new versions, -1 for old ones. `shard`
 * says where the school's, the purposes' and the no-subject changes go (always 0 before the shards).
 */
const contributions = (table: string, sign: number, shard: string) => `
  select m.tenant, c.scope, c.key, c.shard, ${sign} as n,
         ${sign} * coalesce(m.size, 0)::bigint as stored,
         ${sign} * (case when m.size is null then m.declared_size else 0 end)::bigint as reserved
  from ${table} m
  cross join lateral (select ${shard} as s) h
  cross join lateral (values ('school', '', h.s), ('purpose', m.purpose, h.s),
                             ('subject', coalesce(m.subject_id, ''), case when m.subject_id is null then h.s else 0::smallint end),
                             ('uploader', m.uploaded_by, 0::smallint)) c(scope, key, shard)
  where m.${HOLDS}`;

// Counter rows are updated in one order (tenant, the school's rows first, then purposes, subjects,
// uploaders; key; shard), so two statements updating counters cannot deadlock each other.
const apply = (changes: string, withShard: boolean) => {
  const shard = withShard ? ', shard' : '';
  return `
    insert into media_usage as u (tenant, scope, key${shard}, count, stored_bytes, reserved_bytes)
    select tenant, scope, key${shard}, sum(n), sum(stored), sum(reserved) from (${changes}) d
    group by tenant, scope, key${shard}
    having sum(n) <> 0 or sum(stored) <> 0 or sum(reserved) <> 0
    order by tenant, case scope when 'school' then 0 when 'purpose' then 1 when 'subject' then 2 else 3 end, key${shard}
    on conflict (tenant, scope, key${shard}) do update set
      count = u.count + excluded.count,
      stored_bytes = u.stored_bytes + excluded.stored_bytes,
      reserved_bytes = u.reserved_bytes + excluded.reserved_bytes;`;
};

/** The counters' trigger function: sharded (this migration's), or as 0004 made it (for `down`). */
const countFunction = (sharded: boolean) => {
  const shard = sharded ? 'media_usage_shard(m.id)' : '0::smallint';
  const of = (table: string, sign: number) => contributions(table, sign, shard);
  return `
create or replace function media_usage_count() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    ${apply(of('new_rows', 1), sharded)}
  elsif tg_op = 'UPDATE' then
    ${apply(`${of('new_rows', 1)} union all ${of('old_rows', -1)}`, sharded)}
  else
    ${apply(of('old_rows', -1), sharded)}
  end if;
  return null;
end $$`;
};

/**
 * 0009's reservation, reading the school's space as the sum of its shards. The insert locks only the
 * shards of the new rows (and the uploader's row), so a school's reservations go on side by side,
 * one per shard; an uploader's own reservations still go one at a time, so the per-person cap and
 * the unfinished-upload limit stay exact.
 */
export const RESERVE_UPLOADS_SHARDED = `
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

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql
    .raw(`create function media_usage_shard(id uuid) returns smallint language sql immutable parallel safe
    as $$ select (get_byte(uuid_send(id), 15) % ${USAGE_SHARDS})::smallint $$`)
    .execute(db);
  // The totals counted so far stay in shard 0: a figure is the sum of its shards.
  await sql`alter table media_usage add column shard smallint not null default 0`.execute(db);
  await sql`alter table media_usage drop constraint media_usage_pkey, add primary key (tenant, scope, key, shard)`.execute(db);
  await sql.raw(countFunction(true)).execute(db);
  await sql.raw(RESERVE_UPLOADS_SHARDED).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // Shards folded back into one row per figure (written as shard -1 while the key allows it), then
  // 0004's counting and 0009's reservation.
  await sql`alter table media_usage drop constraint media_usage_pkey`.execute(db);
  await sql`insert into media_usage (tenant, scope, key, shard, count, stored_bytes, reserved_bytes)
            select tenant, scope, key, -1, sum(count), sum(stored_bytes), sum(reserved_bytes) from media_usage group by tenant, scope, key`.execute(
    db,
  );
  await sql`delete from media_usage where shard <> -1`.execute(db);
  await sql`alter table media_usage drop column shard, add primary key (tenant, scope, key)`.execute(db);
  await sql.raw(countFunction(false)).execute(db);
  await sql`drop function media_usage_shard(uuid)`.execute(db);
  await durableReservations(db);
}
