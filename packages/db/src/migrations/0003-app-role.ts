import { sql, type Kysely } from 'kysely';

/**
 * The DML-only role of the functions (`media_app`, see app-role.ts): SELECT, INSERT and UPDATE on
 * the tables, nothing else. The service never deletes a row (a deleted item is a status), so no
 * table grants DELETE; a later migration that needs it grants it on its own table. Default
 * privileges give the tables and sequences of later migrations (created by the same owner) the
 * same three rights. The migrator's own tables stay out of reach.
 *
 * The role has no password here: in AWS the migrate function sets it from the role's secret;
 * tests sign in through trust authentication. Roles are server-wide, so the role may exist
 * already (another database of the server, or a concurrent migration creating it right now).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`DO $$
    BEGIN
      CREATE ROLE media_app WITH LOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END
  $$`.execute(db);
  await sql`GRANT USAGE ON SCHEMA public TO media_app`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE ON media TO media_app`.execute(db);
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE ON TABLES TO media_app`.execute(db);
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO media_app`.execute(db);
  // Nobody but the owner creates objects in the schema (PostgreSQL 15 already defaults to this).
  await sql`REVOKE CREATE ON SCHEMA public FROM PUBLIC`.execute(db);
}

/** Takes back what up() granted; the role stays, as other databases of the server may use it. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM media_app`.execute(db);
  await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE ON TABLES FROM media_app`.execute(db);
  await sql`REVOKE SELECT, INSERT, UPDATE ON media FROM media_app`.execute(db);
  await sql`REVOKE USAGE ON SCHEMA public FROM media_app`.execute(db);
}
