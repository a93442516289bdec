import { sql, type Kysely } from 'kysely';

/**
 * Scale: no request reads a school's rows to answer a question about all of them.
 *
 * - `media_usage` holds the space each school holds, per school, purpose, subject and uploader
 *   (count, stored bytes of processed items, reserved bytes of unfinished ones). Statement triggers
 *   on `media` keep it, so every statement that changes what it counts changes it in the same
 *   transaction, whoever wrote the statement. Counter rows are always updated in one order (the
 *   school's row first), so a transaction that locks its school's row first cannot deadlock with
 *   these updates.
 * - The 64-bit perceptual hash is split into four 16-bit bands in indexed columns, for
 *   multi-index hashing: two hashes within Hamming distance 7 share a band up to one bit.
 * - Indexes for the lists of every role's scope and the rare filters, each ending in `id` so a
 *   page is read in cursor order.
 */

/** What a row holds: processed items their stored size, unfinished ones their declared size. */
const HOLDS = `status in ('pending', 'processing', 'ready')`;

/** The counter changes of one set of rows, with a sign: +1 for new versions, -1 for old ones. */
const contributions = (table: string, sign: number) => `
  select m.tenant, c.scope, c.key, ${sign} as n,
         ${sign} * coalesce(m.size, 0)::bigint as stored,
         ${sign} * (case when m.size is null then m.declared_size else 0 end)::bigint as reserved
  from ${table} m
  cross join lateral (values ('school', ''), ('purpose', m.purpose), ('subject', coalesce(m.subject_id, '')), ('uploader', m.uploaded_by)) c(scope, key)
  where m.${HOLDS}`;

const apply = (changes: string) => `
    insert into media_usage as u (tenant, scope, key, count, stored_bytes, reserved_bytes)
    select tenant, scope, key, sum(n), sum(stored), sum(reserved) from (${changes}) d
    group by tenant, scope, key
    having sum(n) <> 0 or sum(stored) <> 0 or sum(reserved) <> 0
    order by tenant, case scope when 'school' then 0 when 'purpose' then 1 when 'subject' then 2 else 3 end, key
    on conflict (tenant, scope, key) do update set
      count = u.count + excluded.count,
      stored_bytes = u.stored_bytes + excluded.stored_bytes,
      reserved_bytes = u.reserved_bytes + excluded.reserved_bytes;`;

const band = (n: number) =>
  sql.raw(`case when phash ~* '^[0-9a-f]{16}$' then ('x' || substr(phash, ${n * 4 + 1}, 4))::bit(16)::integer end`);

/**
 * An upload's reservation in one statement: insert the rows, then (the insert's trigger now holds
 * the school's counter row) read the figures the limits need and refuse if any is over, raising
 * `MR001` with the figures so nothing stays. Called in autocommit, the school's row is locked for
 * no client round trip at all: from the insert to the end of this function and the commit.
 * The limits are the caller's (config and policy); `person_cap` null means none.
 */
export const RESERVE_UPLOADS_FUNCTION = `
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
                     declared_size, filename, upload_expires_at, variants)
  select (x->>'id')::uuid, x->>'tenant', x->>'purpose', 'pending', x->>'subject_id', x->>'classroom_id', x->>'uploaded_by',
         x->>'content_type', (x->>'declared_size')::integer, x->>'filename', (x->>'upload_expires_at')::timestamptz, '[]'::jsonb
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

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table media_usage (
    tenant text not null,
    scope text not null check (scope in ('school', 'purpose', 'subject', 'uploader')),
    key text not null,
    count bigint not null default 0,
    stored_bytes bigint not null default 0,
    reserved_bytes bigint not null default 0,
    primary key (tenant, scope, key)
  )`.execute(db);

  await sql
    .raw(
      `create function media_usage_count() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    ${apply(contributions('new_rows', 1))}
  elsif tg_op = 'UPDATE' then
    ${apply(`${contributions('new_rows', 1)} union all ${contributions('old_rows', -1)}`)}
  else
    ${apply(contributions('old_rows', -1))}
  end if;
  return null;
end $$`,
    )
    .execute(db);
  await sql`create trigger media_usage_insert after insert on media referencing new table as new_rows
            for each statement execute function media_usage_count()`.execute(db);
  await sql`create trigger media_usage_update after update on media referencing old table as old_rows new table as new_rows
            for each statement execute function media_usage_count()`.execute(db);
  await sql`create trigger media_usage_delete after delete on media referencing old table as old_rows
            for each statement execute function media_usage_count()`.execute(db);

  // The recount's repair replaces a school's counter rows; the app role gets no more than that.
  await sql`do $$ begin
    if exists (select 1 from pg_roles where rolname = 'media_app') then grant delete on media_usage to media_app; end if;
  end $$`.execute(db);

  // Counters of the rows already there, as the triggers would have kept them.
  await sql
    .raw(
      `insert into media_usage (tenant, scope, key, count, stored_bytes, reserved_bytes)
       select tenant, scope, key, sum(n), sum(stored), sum(reserved) from (${contributions('media', 1)}) d
       group by tenant, scope, key`,
    )
    .execute(db);

  for (let n = 0; n < 4; n++) {
    await sql`alter table media add column ${sql.raw(`phash_band${n}`)} integer generated always as (${band(n)}) stored`.execute(db);
    await sql`create index ${sql.raw(`media_tenant_phash_band${n}`)} on media (tenant, ${sql.raw(`phash_band${n}`)}) where phash is not null`.execute(
      db,
    );
  }

  // A student's scope is `subject_id = sub or uploaded_by = sub`: one index per side.
  await sql`create index media_tenant_uploader on media (tenant, uploaded_by, id)`.execute(db);
  // Rare filters (rejected items, one purpose) read their own rows, in cursor order.
  await sql`create index media_tenant_status on media (tenant, status, id)`.execute(db);
  // Without deleted rows, so a whole-school list of some purposes reads it alone (index-only), never
  // walking the primary key past other purposes' newest rows.
  await sql`create index media_tenant_purpose_id on media (tenant, purpose, id) where status <> 'deleted'`.execute(db);
  // The pending-upload limit reads one uploader's unfinished rows that still count, by expiry.
  await sql`create index media_pending_by_uploader_expiry on media (tenant, uploaded_by, upload_expires_at) where status = 'pending'`.execute(
    db,
  );
  await sql`drop index media_pending_by_uploader`.execute(db);
  await sql.raw(RESERVE_UPLOADS_FUNCTION).execute(db);
  // The sweeper's stalled processing rows, oldest lease first.
  await sql`create index media_processing_lease on media (lease_expires_at) where status = 'processing'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function media_reserve_uploads(jsonb, bigint, bigint, integer)`.execute(db);
  await sql`create index media_pending_by_uploader on media (tenant, uploaded_by) where status = 'pending'`.execute(db);
  for (const name of [
    'media_pending_by_uploader_expiry',
    'media_processing_lease',
    'media_tenant_purpose_id',
    'media_tenant_status',
    'media_tenant_uploader',
  ]) {
    await sql`drop index ${sql.raw(name)}`.execute(db);
  }
  for (let n = 0; n < 4; n++) await sql`alter table media drop column ${sql.raw(`phash_band${n}`)}`.execute(db);
  for (const event of ['insert', 'update', 'delete']) await sql`drop trigger ${sql.raw(`media_usage_${event}`)} on media`.execute(db);
  await sql`drop function media_usage_count()`.execute(db);
  await sql`drop table media_usage`.execute(db);
}
