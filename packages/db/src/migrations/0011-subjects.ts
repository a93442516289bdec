import { sql, type Kysely } from 'kysely';

/**
 * The people in a photo (docs/privacy.md):
 *
 * - `media.subject_ids` is the list an item names, in the order given (none: nobody, never the
 *   uploader); `subject_id` stays its first, for the clients and counters that read one. A trigger
 *   keeps the two together and mirrors the list into `media_subjects`, whose index (tenant,
 *   subject, media) finds every item naming a person: lists, erasures and exports read it.
 *   The trigger fills both from `subject_id` alone on insert, so `media_reserve_uploads` (which
 *   writes one subject per item) needs no change; further subjects are added by an update in the
 *   same transaction.
 * - Service names were stored as the "subject" of a service's uploads naming nobody: cleared.
 * - A deleted row, once its objects are purged and its event sent, keeps only who deleted it and
 *   when: no file name, hashes, placeholder, capture time, subjects, classroom or rejection text.
 * - Rights jobs carry the purposes they cover (what the requester may read), and erasures count
 *   the shared photos they untagged rather than deleted.
 * - Audit rows: the app role may insert every column but `at`, which is always the insert's own
 *   time (no back-dating); the audit prune never goes below `audit_retention.days`, written by the
 *   migrating role from the deploy's setting, whatever retention the caller passes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table media add column subject_ids text[] not null default '{}'`.execute(db);
  await sql`update media set subject_id = null where subject_id in ('ai-service', 'attendance-service', 'user-service', 'analytics-service')`.execute(
    db,
  );
  await sql`update media set subject_ids = array[subject_id] where subject_id is not null`.execute(db);

  await sql`create table media_subjects (
    media_id uuid not null,
    tenant text not null,
    subject_id text not null,
    position smallint not null,
    primary key (media_id, subject_id)
  )`.execute(db);
  await sql`create index media_subjects_by_subject on media_subjects (tenant, subject_id, media_id)`.execute(db);
  await sql`insert into media_subjects (media_id, tenant, subject_id, position)
            select id, tenant, subject_id, 1 from media where subject_id is not null`.execute(db);

  // One statement per call: PGlite (the local stack) prepares each, and a prepared statement holds one command.
  for (const statement of [...SUBJECT_TRIGGERS, ...SCRUB_TRIGGER]) await sql.raw(statement).execute(db);
  // What is already purged and announced loses what the trigger would have taken.
  await sql`update media set status = status where status = 'deleted' and purged_at is not null and event_published_at is not null`.execute(
    db,
  );

  await sql`alter table rights_job add column purposes text[] not null default '{profile,attendance,training,general}'`.execute(db);
  await sql`alter table rights_job add column untagged integer not null default 0`.execute(db);
  // One running job per person, kind and scope: a narrower request never stands in for a wider one.
  await sql`drop index rights_job_one_running`.execute(db);
  await sql`create unique index rights_job_one_running on rights_job (tenant, subject_id, kind, purposes) where status = 'running'`.execute(
    db,
  );

  await sql`create table audit_retention (
    only_row boolean primary key default true check (only_row),
    days integer not null check (days >= 30)
  )`.execute(db);
  await sql`insert into audit_retention (days) values (730)`.execute(db);
  await sql.raw(PRUNE_WITH_FLOOR).execute(db);

  await sql`DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'media_app') THEN
        GRANT DELETE ON media_subjects TO media_app;
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON audit_retention FROM media_app;
        GRANT SELECT ON audit_retention TO media_app;
        REVOKE INSERT ON access_audit FROM media_app;
        GRANT INSERT (tenant, actor, actor_role, action, media_id, subject_id, variant, request_id) ON access_audit TO media_app;
      END IF;
    END
  $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'media_app') THEN
        REVOKE INSERT (tenant, actor, actor_role, action, media_id, subject_id, variant, request_id) ON access_audit FROM media_app;
        GRANT INSERT ON access_audit TO media_app;
      END IF;
    END
  $$`.execute(db);
  await sql.raw(PRUNE_OF_0007).execute(db);
  await sql`drop table audit_retention`.execute(db);
  await sql`drop index rights_job_one_running`.execute(db);
  await sql`create unique index rights_job_one_running on rights_job (tenant, subject_id, kind) where status = 'running'`.execute(db);
  await sql`alter table rights_job drop column untagged, drop column purposes`.execute(db);
  await sql`drop trigger media_scrub_purged on media`.execute(db);
  await sql`drop function media_scrub_purged()`.execute(db);
  await sql`drop trigger media_subjects_remirror on media`.execute(db);
  await sql`drop trigger media_subjects_mirror on media`.execute(db);
  await sql`drop trigger media_subjects_first_again on media`.execute(db);
  await sql`drop trigger media_subjects_first on media`.execute(db);
  await sql`drop function media_subjects_remirror()`.execute(db);
  await sql`drop function media_subjects_mirror()`.execute(db);
  await sql`drop function media_subjects_first()`.execute(db);
  await sql`drop table media_subjects`.execute(db);
  await sql`alter table media drop column subject_ids`.execute(db);
}

/**
 * The first subject is kept by a row trigger that runs only when the two disagree; the mirror into
 * `media_subjects` by statement triggers over the transition tables, one insert per statement
 * (a seed of 100k rows, or a batch of uploads, costs one statement, not one per row).
 */
const SUBJECT_TRIGGERS = [
  `create function media_subjects_first() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    if cardinality(new.subject_ids) = 0 then new.subject_ids := array[new.subject_id]; end if;
  elsif new.subject_ids is not distinct from old.subject_ids then
    -- Only the first subject was set: it replaces the list's first.
    new.subject_ids := case when new.subject_id is null then '{}'::text[]
                            else array[new.subject_id] || array_remove(old.subject_ids[2:], new.subject_id) end;
  end if;
  new.subject_id := new.subject_ids[1];
  return new;
end $$`,
  `create trigger media_subjects_first before insert on media
  for each row when (new.subject_id is distinct from new.subject_ids[1]) execute function media_subjects_first()`,
  `create trigger media_subjects_first_again before update of subject_id, subject_ids on media
  for each row when (new.subject_id is distinct from new.subject_ids[1]) execute function media_subjects_first()`,
  `create function media_subjects_mirror() returns trigger language plpgsql as $$
begin
  insert into media_subjects (media_id, tenant, subject_id, position)
  select n.id, n.tenant, s.subject_id, s.position
  from new_rows n cross join lateral unnest(n.subject_ids) with ordinality s(subject_id, position);
  return null;
end $$`,
  `create trigger media_subjects_mirror after insert on media
  referencing new table as new_rows for each statement execute function media_subjects_mirror()`,
  `create function media_subjects_remirror() returns trigger language plpgsql as $$
begin
  delete from media_subjects m using new_rows n join old_rows o on o.id = n.id
  where m.media_id = n.id and n.subject_ids is distinct from o.subject_ids and m.subject_id <> all(n.subject_ids);
  insert into media_subjects (media_id, tenant, subject_id, position)
  select n.id, n.tenant, s.subject_id, s.position
  from new_rows n join old_rows o on o.id = n.id cross join lateral unnest(n.subject_ids) with ordinality s(subject_id, position)
  where n.subject_ids is distinct from o.subject_ids
  on conflict (media_id, subject_id) do update set position = excluded.position;
  return null;
end $$`,
  `create trigger media_subjects_remirror after update on media
  referencing old table as old_rows new table as new_rows for each statement execute function media_subjects_remirror()`,
];

/** Runs before the subjects' trigger (triggers of one event fire in name order), which then mirrors the emptied list. */
const SCRUB_TRIGGER = [
  `create function media_scrub_purged() returns trigger language plpgsql as $$
begin
  new.filename := null;
  new.sha256 := null;
  new.phash := null;
  new.placeholder := null;
  new.captured_at := null;
  new.subject_ids := '{}';
  new.subject_id := null;
  new.classroom_id := null;
  new.rejection_detail := null;
  return new;
end $$`,
  `create trigger media_scrub_purged before update on media
  for each row when (new.status = 'deleted' and new.purged_at is not null and new.event_published_at is not null)
  execute function media_scrub_purged()`,
];

const PRUNE_WITH_FLOOR = `
create or replace function prune_access_audit(retention_days integer, batch integer) returns integer
  language plpgsql security definer set search_path = public, pg_temp as $$
  declare
    removed integer;
    kept integer := greatest(retention_days, (select days from audit_retention));
  begin
    if retention_days is null or retention_days < 30 then
      raise exception 'audit rows are kept at least 30 days (asked: %)', retention_days;
    end if;
    delete from access_audit where id in (
      select id from access_audit where at < now() - kept * interval '1 day'
      order by at limit greatest(1, least(coalesce(batch, 1000), 10000)));
    get diagnostics removed = row_count;
    return removed;
  end $$`;

const PRUNE_OF_0007 = `
create or replace function prune_access_audit(retention_days integer, batch integer) returns integer
  language plpgsql security definer set search_path = public, pg_temp as $$
  declare removed integer;
  begin
    if retention_days is null or retention_days < 30 then
      raise exception 'audit rows are kept at least 30 days (asked: %)', retention_days;
    end if;
    delete from access_audit where id in (
      select id from access_audit where at < now() - retention_days * interval '1 day'
      order by at limit greatest(1, least(coalesce(batch, 1000), 10000)));
    get diagnostics removed = row_count;
    return removed;
  end $$`;
