import { sql, type Kysely } from 'kysely';

/**
 * Faces, a stage after `ready` (docs/imaging.md § Faces, docs/privacy.md § Faces):
 *
 * - `media_faces`: one row per item the stage has taken up. `status` is `pending` while a worker
 *   holds it (a lease, as processing has) or must come back, `done` once `faces` is written,
 *   `failed` after `attempts` ran out. `faces` holds boxes, five landmarks, score and quality as
 *   fractions of the upright image; never an embedding. `variants` are the stage's derivatives
 *   (`blurred`, and `faces/N` while the item's subjects allow recognition), the same shape as
 *   `media.variants`, kept apart so that the stage never rewrites the row processing wrote.
 * - `school_settings`: per school, whether attendance photos may be used for recognition whatever
 *   their subjects' own consent (an admin's decision, audited: the audit log gains `setting`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table media_faces (
    media_id uuid primary key,
    tenant text not null,
    status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
    attempts integer not null default 0,
    lease_expires_at timestamptz,
    faces jsonb,
    variants jsonb not null default '[]',
    detected_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`create index media_faces_pending on media_faces (created_at) where status = 'pending'`.execute(db);

  await sql`create table school_settings (
    tenant text primary key,
    recognition_for_attendance boolean not null default false,
    updated_at timestamptz not null default now(),
    updated_by text not null
  )`.execute(db);
  await sql`alter table access_audit drop constraint access_audit_action_check`.execute(db);
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('download', 'delete', 'legal-hold', 'consent', 'erasure', 'export', 'setting'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from access_audit where action = 'setting'`.execute(db);
  await sql`alter table access_audit drop constraint access_audit_action_check`.execute(db);
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('download', 'delete', 'legal-hold', 'consent', 'erasure', 'export'))`.execute(db);
  await sql`drop table school_settings`.execute(db);
  await sql`drop table media_faces`.execute(db);
}
