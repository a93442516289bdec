import { sql, type Kysely } from 'kysely';

/**
 * The rights of the people the photos are about (docs/privacy.md):
 *
 * - `subject_consent`: one row per person who was asked (no row: no consent). Erasure removes the
 *   row, so the app role may DELETE here.
 * - `access_audit`: append-only. The app role may INSERT and SELECT, never UPDATE or DELETE (the
 *   default privileges of 0003 would give it UPDATE: taken back here). Old rows leave only through
 *   `prune_access_audit`, a SECURITY DEFINER function owned by the migrating role: it deletes rows
 *   older than the retention it is given, never younger than 30 days, in bounded batches, and is
 *   the only delete the app role can cause on this table. A compromised function can therefore not
 *   rewrite or erase the recent history of who saw what.
 * - `rights_job`: erasures and exports, advanced in bounded batches by the sweeper, each batch one
 *   transaction that moves the job's cursor with its work, so a crash repeats at most one batch's
 *   reads and never counts an item twice. One running job per kind and person (idempotent requests).
 *   A finished erasure keeps `announced_at` empty until its `subject.erased` event went out, so
 *   the event is sent at least once even when the worker dies right after the last batch.
 * - `media_retention`: the retention run's index (purpose, age) over the rows still held.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subject_consent')
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('recognition', 'boolean', (c) => c.notNull())
    .addColumn('training', 'boolean', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('subject_consent_pk', ['tenant', 'subject_id'])
    .execute();

  await sql`create table access_audit (
    id bigint generated always as identity primary key,
    at timestamptz not null default date_trunc('milliseconds', now()),
    tenant text not null,
    actor text not null,
    actor_role text not null,
    action text not null check (action in ('download', 'delete', 'legal-hold', 'consent', 'erasure', 'export')),
    media_id uuid,
    subject_id text,
    variant text,
    request_id text
  )`.execute(db);
  // Newest first per school, and per filter: each index ends in (at, id), the cursor's order.
  await sql`create index access_audit_tenant_at on access_audit (tenant, at desc, id desc)`.execute(db);
  await sql`create index access_audit_media on access_audit (tenant, media_id, at desc, id desc) where media_id is not null`.execute(db);
  await sql`create index access_audit_subject on access_audit (tenant, subject_id, at desc, id desc) where subject_id is not null`.execute(
    db,
  );
  await sql`create index access_audit_actor on access_audit (tenant, actor, at desc, id desc)`.execute(db);
  await sql`create index access_audit_action on access_audit (tenant, action, at desc, id desc)`.execute(db);
  await sql`create index access_audit_age on access_audit (at)`.execute(db);

  await sql`create table rights_job (
    id uuid primary key,
    tenant text not null,
    subject_id text not null,
    kind text not null check (kind in ('erasure', 'export')),
    status text not null default 'running' check (status in ('running', 'done')),
    requested_by text not null,
    requester_role text not null,
    cursor uuid,
    total integer not null default 0,
    deleted integer not null default 0,
    held_back integer not null default 0,
    items integer not null default 0,
    bytes bigint not null default 0,
    object_key text,
    lease_expires_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    completed_at timestamptz,
    announced_at timestamptz
  )`.execute(db);
  await sql`create unique index rights_job_one_running on rights_job (tenant, subject_id, kind) where status = 'running'`.execute(db);
  // Running jobs, and finished erasures whose subject.erased event has not gone out yet.
  await sql`create index rights_job_running on rights_job (created_at) where status = 'running' or (kind = 'erasure' and announced_at is null)`.execute(
    db,
  );

  await sql`create index media_retention on media (purpose, created_at) where status <> 'deleted'`.execute(db);

  await sql`create function prune_access_audit(retention_days integer, batch integer) returns integer
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
    end $$`.execute(db);
  await sql`revoke all on function prune_access_audit(integer, integer) from public`.execute(db);

  await sql`DO $$
    BEGIN
      IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'media_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON access_audit FROM media_app;
        GRANT SELECT, INSERT ON access_audit TO media_app;
        GRANT DELETE ON subject_consent TO media_app;
        GRANT EXECUTE ON FUNCTION prune_access_audit(integer, integer) TO media_app;
      END IF;
    END
  $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop function if exists prune_access_audit(integer, integer)`.execute(db);
  await sql`drop index if exists media_retention`.execute(db);
  await db.schema.dropTable('rights_job').ifExists().execute();
  await db.schema.dropTable('access_audit').ifExists().execute();
  await db.schema.dropTable('subject_consent').ifExists().execute();
}
