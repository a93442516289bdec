import { randomBytes } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newMediaId } from '@media/core';
import { APP_ROLE, createDatabase, migrateToLatest, setAppRolePassword } from '@media/db';
import { scratchDatabase, withClient, type ScratchDatabase } from '../../../test/support/database';
import { scramVerifies } from '../../../test/support/scram';
import * as appRole from '../src/migrations/0003-app-role';

const serverUrl = inject('databaseUrl');
const PERMISSION_DENIED = '42501';

/** The PostgreSQL error code a statement fails with, or 'ok'. */
async function outcome(client: pg.Client, statement: string, values: unknown[] = []): Promise<string> {
  try {
    await client.query(statement, values);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const insertRow = `insert into media (id, tenant, purpose, status, uploaded_by, content_type, declared_size, upload_expires_at)
                   values ($1, 'school-app-role', 'general', 'pending', 'u-1', 'image/jpeg', 1000, now() + interval '10 minutes')`;

// Signs in as the app role through the server's trust authentication: needs PostgreSQL, not PGlite.
describe.skipIf(!serverUrl)('the app role (media_app)', () => {
  // A database of its own: were the grants wrong, a DROP TABLE here must not hit the shared test database.
  let scratch: ScratchDatabase;
  let app: pg.Client;

  beforeAll(async () => {
    scratch = await scratchDatabase('app_role');
    const db = await createDatabase({ url: scratch.url });
    await migrateToLatest(db);
    await db.destroy();
    app = new pg.Client({ connectionString: scratch.urlAs(APP_ROLE) });
    await app.connect();
  });

  afterAll(async () => {
    await app?.end();
    await scratch?.drop();
  });

  it('signs in as media_app, a role without superuser, CREATEROLE or CREATEDB', async () => {
    const { rows } = await app.query(
      `select current_user, rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user`,
    );
    expect(rows[0]).toEqual({ current_user: 'media_app', rolsuper: false, rolcreaterole: false, rolcreatedb: false });
  });

  it('may read, add and change media rows', async () => {
    const id = newMediaId();
    expect(await outcome(app, insertRow, [id])).toBe('ok');
    expect(await outcome(app, `update media set status = 'deleted', deleted_at = now() where id = $1`, [id])).toBe('ok');
    const { rows } = await app.query(`select status from media where id = $1`, [id]);
    expect(rows).toEqual([{ status: 'deleted' }]);
  });

  it('may not delete a row: the service marks items deleted, it never removes them', async () => {
    const id = newMediaId();
    await app.query(insertRow, [id]);
    expect(await outcome(app, `delete from media where id = $1`, [id])).toBe(PERMISSION_DENIED);
  });

  it('may not drop, alter or truncate the table', async () => {
    expect(await outcome(app, `drop table media`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `alter table media add column sneaky text`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `alter table media drop constraint media_pkey`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `truncate media`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `create index sneaky on media (filename)`)).toBe(PERMISSION_DENIED);
  });

  it('may not create tables or other objects in the schema', async () => {
    expect(await outcome(app, `create table sneaky (x int)`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `create view sneaky as select 1`)).toBe(PERMISSION_DENIED);
  });

  it("may not read or change the migrator's bookkeeping", async () => {
    expect(await outcome(app, `select * from kysely_migration`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `insert into kysely_migration (name, timestamp) values ('9999-sneaky', 'now')`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `update kysely_migration_lock set is_locked = 1`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `delete from kysely_migration`)).toBe(PERMISSION_DENIED);
  });

  it('gets read, add and change (not delete) on the tables and sequences a later migration creates', async () => {
    await withClient(scratch.url, (owner) => owner.query(`create table later_table (id serial primary key, note text)`));
    expect(await outcome(app, `insert into later_table (note) values ('a')`)).toBe('ok');
    expect(await outcome(app, `update later_table set note = 'b'`)).toBe('ok');
    expect(await outcome(app, `delete from later_table`)).toBe(PERMISSION_DENIED);
    expect(await outcome(app, `drop table later_table`)).toBe(PERMISSION_DENIED);
  });

  it('loses what it was granted when the migration is rolled back, and the role stays', async () => {
    // Migrations see an untyped database, as the migrator gives it to them.
    const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: scratch.url, max: 1 }) }) });
    try {
      await appRole.down(db);
      expect(await outcome(app, `select 1 from media limit 1`)).toBe(PERMISSION_DENIED);
      const { rows } = await withClient(serverUrl, (c) => c.query(`select 1 from pg_roles where rolname = $1`, [APP_ROLE]));
      expect(rows).toHaveLength(1);
      await appRole.up(db);
      expect(await outcome(app, `select 1 from media limit 1`)).toBe('ok');
    } finally {
      await db.destroy();
    }
  });

  it('migrates again on a server where the role exists already (roles are server-wide)', async () => {
    const other = await scratchDatabase('app_role_again');
    try {
      const db = await createDatabase({ url: other.url });
      const results = await migrateToLatest(db).finally(() => db.destroy());
      expect(results.results?.map((r) => `${r.migrationName} ${r.status}`)).toContain('0003-app-role Success');
    } finally {
      await other.drop();
    }
  });
});

describe.skipIf(!serverUrl)("setting the app role's password (what the migrate function does in AWS)", () => {
  // A role of the test's own: the server's media_app is shared with other runs.
  const role = `media_app_pw_${randomBytes(4).toString('hex')}`;
  const superuser = (statement: string, values: unknown[] = []) => withClient(serverUrl, (c) => c.query(statement, values));

  beforeAll(() => superuser(`create role ${role} nologin`));
  afterAll(() => superuser(`drop role if exists ${role}`));

  it('stores exactly the given password, quotes and all, and lets the role sign in', async () => {
    const password = `it's "quoted"; drop role ${role}; -- ${randomBytes(8).toString('hex')}`;
    const db = await createDatabase({ url: serverUrl, poolSize: 1 });
    try {
      await setAppRolePassword(db, password, role);
    } finally {
      await db.destroy();
    }
    const { rows } = await superuser(`select rolcanlogin, rolpassword from pg_authid where rolname = $1`, [role]);
    expect(rows).toHaveLength(1);
    expect(rows[0].rolcanlogin).toBe(true);
    expect(scramVerifies(rows[0].rolpassword, password)).toBe(true);
    expect(scramVerifies(rows[0].rolpassword, 'another password')).toBe(false);
  });

  it('refuses an empty password rather than leave the role without one', async () => {
    const db = await createDatabase({ url: serverUrl, poolSize: 1 });
    try {
      await expect(setAppRolePassword(db, '', role)).rejects.toThrow(/no password/);
    } finally {
      await db.destroy();
    }
  });
});

/** What the app role may do in a database, object by object, and which migrations it records. */
async function appRoleView(url: string) {
  return withClient(url, async (c) => {
    const relations = await c.query(
      `
      select c.relname as name, c.relkind as kind,
             array(select p from unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p
                   where has_table_privilege($1, c.oid, p)) as privileges
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
      order by c.relname`,
      [APP_ROLE],
    );
    const functions = await c.query(
      `
      select p.oid::regprocedure::text as name, has_function_privilege($1, p.oid, 'EXECUTE') as execute
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' order by 1`,
      [APP_ROLE],
    );
    const schema = await c.query(
      `select has_schema_privilege($1, 'public', 'USAGE') as usage, has_schema_privilege($1, 'public', 'CREATE') as create,
                                         has_database_privilege($1, current_database(), 'CONNECT') as connect`,
      [APP_ROLE],
    );
    const defaults = await c.query(`select defaclobjtype as kind, defaclacl::text as acl from pg_default_acl order by 1`);
    const migrations = await c.query(`select name from kysely_migration order by name`);
    return {
      relations: relations.rows,
      functions: functions.rows,
      schema: schema.rows,
      defaults: defaults.rows,
      migrations: migrations.rows,
    };
  });
}

// The suite migrates once per run and copies the result (test/support/global-setup.ts): the copies
// must be what a migration gives, app role included, although roles are server-wide.
describe.skipIf(!serverUrl)("a copy of the run's migrated template", () => {
  it('grants the app role exactly what a migration from nothing grants, and records the same migrations', async () => {
    const migrated = await scratchDatabase('app_role_migrated');
    const copied = await scratchDatabase('app_role_copied', { migrated: true });
    try {
      const db = await createDatabase({ url: migrated.url, poolSize: 1 });
      await migrateToLatest(db).finally(() => db.destroy());
      const expected = await appRoleView(migrated.url);
      expect(expected.relations).toContainEqual({ name: 'media', kind: 'r', privileges: ['SELECT', 'INSERT', 'UPDATE'] });
      expect(await appRoleView(copied.url)).toEqual(expected);
    } finally {
      await Promise.all([migrated.drop(), copied.drop()]);
    }
  });

  it('lets the app role sign in and change rows, and still refuses it a delete', async () => {
    const copied = await scratchDatabase('app_role_signin', { migrated: true });
    const app = new pg.Client({ connectionString: copied.urlAs(APP_ROLE) });
    try {
      await app.connect();
      const id = newMediaId();
      expect(await outcome(app, insertRow, [id])).toBe('ok');
      expect(await outcome(app, `update media set status = 'deleted', deleted_at = now() where id = $1`, [id])).toBe('ok');
      expect(await outcome(app, `delete from media where id = $1`, [id])).toBe(PERMISSION_DENIED);
    } finally {
      await app.end();
      await copied.drop();
    }
  });
});
