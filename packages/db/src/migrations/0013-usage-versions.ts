import { sql, type Kysely } from 'kysely';

/**
 * Every change of a school's counters moves a version, so a usage answer can be kept and reused
 * for as long as the version stands (the API keeps one per school and process).
 *
 * - `media_usage` gains `version`. The counters' trigger adds 1 to the version of the school's shard
 *   row that its change touches, in the same update as the counts, whenever any of the school's
 *   counters changes: also when only a subject's or a purpose's figure moves and the school's total
 *   does not (an item given another subject), which is why the school's row is now written even for
 *   a change that nets to zero. A school's shard row created by a change
 *   starts at 1; the other rows' versions stay 0.
 * - So the sum of the versions of a school's shard rows only ever grows, and it grows with every
 *   committed change of any of the school's figures: read in the same snapshot as the figures, an
 *   equal sum later means the figures are still the same. (A repair by `db:recount` that replaces
 *   rows keeps that true: see `usage-recount.ts`.)
 * - The bump costs nothing new in contention: the school's shard row is the row the change locks
 *   anyway; a change that leaves the school's total alone now locks it too, in the same order.
 *
 * Written out whole (as 0010 wrote it, plus the version), so this migration means the same whatever
 * comes later.
 */
const HOLDS = `status in ('pending', 'processing', 'ready')`;

const contributions = (table: string, sign: number) => `
  select m.tenant, c.scope, c.key, c.shard, ${sign} as n,
         ${sign} * coalesce(m.size, 0)::bigint as stored,
         ${sign} * (case when m.size is null then m.declared_size else 0 end)::bigint as reserved
  from ${table} m
  cross join lateral (select media_usage_shard(m.id) as s) h
  cross join lateral (values ('school', '', h.s), ('purpose', m.purpose, h.s),
                             ('subject', coalesce(m.subject_id, ''), case when m.subject_id is null then h.s else 0::smallint end),
                             ('uploader', m.uploaded_by, 0::smallint)) c(scope, key, shard)
  where m.${HOLDS}`;

// Counter rows are updated in one order (tenant, the school's rows first, then purposes, subjects,
// uploaders; key; shard), so two statements updating counters cannot deadlock each other.
const apply = (changes: string, versioned: boolean) => `
    insert into media_usage as u (tenant, scope, key, shard, count, stored_bytes, reserved_bytes${versioned ? ', version' : ''})
    select tenant, scope, key, shard, sum(n), sum(stored), sum(reserved)${versioned ? `, case when scope = 'school' then 1 else 0 end` : ''} from (${changes}) d
    group by tenant, scope, key, shard
    having sum(n) <> 0 or sum(stored) <> 0 or sum(reserved) <> 0${versioned ? ` or scope = 'school'` : ''}
    order by tenant, case scope when 'school' then 0 when 'purpose' then 1 when 'subject' then 2 else 3 end, key, shard
    on conflict (tenant, scope, key, shard) do update set
      count = u.count + excluded.count,
      stored_bytes = u.stored_bytes + excluded.stored_bytes,
      reserved_bytes = u.reserved_bytes + excluded.reserved_bytes${versioned ? `,\n      version = u.version + case when u.scope = 'school' then 1 else 0 end` : ''};`;

/** The counters' trigger function: with versions (this migration's), or as 0010 made it (for `down`). */
const countFunction = (versioned: boolean) => `
create or replace function media_usage_count() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    ${apply(contributions('new_rows', 1), versioned)}
  elsif tg_op = 'UPDATE' then
    ${apply(`${contributions('new_rows', 1)} union all ${contributions('old_rows', -1)}`, versioned)}
  else
    ${apply(contributions('old_rows', -1), versioned)}
  end if;
  return null;
end $$`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table media_usage add column version bigint not null default 0`.execute(db);
  await sql.raw(countFunction(true)).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(countFunction(false)).execute(db);
  await sql`alter table media_usage drop column version`.execute(db);
}
