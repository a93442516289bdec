import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedTemplateKey, embeddedTemplatesDir, startFromTemplate } from '../src/embedded-database-template';
import { createDatabase, lockEmbeddedDatabase, migrateToLatest, type Database } from '../src/index';

const sources = resolve(import.meta.dirname, '../src');

/**
 * What the migrations made, as text: schemas, columns, constraints, indexes, functions, triggers,
 * roles, grants, the rows of every table, and the migrations recorded as applied.
 */
async function schemaOf(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    select 'schema ' || nspname as line from pg_namespace
    union all select format('column %s.%s.%s %s %s %s', table_schema, table_name, column_name, data_type, is_nullable, column_default)
      from information_schema.columns where table_schema not in ('pg_catalog', 'information_schema')
    union all select format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
      from pg_constraint where connamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
    union all select 'index ' || indexdef from pg_indexes where schemaname not in ('pg_catalog', 'information_schema')
    union all select 'function ' || pg_get_functiondef(p.oid) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname not in ('pg_catalog', 'information_schema') and p.prokind in ('f', 'p')
    union all select 'trigger ' || pg_get_triggerdef(oid) from pg_trigger where not tgisinternal
    union all select format('role %s login=%s', rolname, rolcanlogin) from pg_roles
    union all select format('grant %s %s.%s %s', grantee, table_schema, table_name, privilege_type)
      from information_schema.role_table_grants where table_schema not in ('pg_catalog', 'information_schema')
    union all select format('rows %s.%s %s', table_schema, table_name,
        (xpath('/row/c/text()', query_to_xml(format('select count(*) as c from %I.%I', table_schema, table_name), false, true, '')))[1]::text)
      from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'
    union all select 'applied ' || name from kysely_migration
    order by 1`.execute(db);
  return rows.map((row) => row.line);
}

describe('a new embedded database starts as a copy of a migrated template', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });
  const scratch = async (name: string) => {
    const dir = await mkdtemp(join(tmpdir(), `media-template-${name}-`));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  const open = async (pgliteDir: string, pgliteTemplates?: string | false) => {
    const db = await createDatabase({ pgliteDir, pgliteTemplates });
    cleanup.push(() => db.destroy());
    return db;
  };

  it('serves new databases, opened at once, from one template: each has the schema and migration state of a database migrated from nothing', {
    timeout: 240_000,
  }, async () => {
    const dir = await scratch('same');
    // The user's cache, as `npm start` uses it: on a machine with none yet, the two openers race to
    // build it (one builds, the other waits and copies); later, both copy it. Either way the stacks
    // the other test files start then find it made.
    const templates = embeddedTemplatesDir();
    const key = embeddedTemplateKey();
    const [one, two] = await Promise.all([open(join(dir, 'one'), templates), open(join(dir, 'two'), templates)]);
    for (const db of [one, two]) expect((await migrateToLatest(db)).results, 'migrations a copy still needed').toEqual([]);
    expect(existsSync(join(dir, 'one.from-template')), 'a copy left half-way').toBe(false);
    expect((await readdir(join(templates, key))).sort(), 'the template: its database and its manifest').toEqual(['complete', 'pgdata']);
    // (Its lock may still be another test file's, for an instant, if that file built the template.)
    expect(existsSync(join(templates, `${key}.building`)), 'a half-built template left behind').toBe(false);

    const fromNothing = await open(join(dir, 'from-nothing'), false);
    expect((await migrateToLatest(fromNothing)).results?.length).toBeGreaterThan(0);
    const schema = await schemaOf(fromNothing);
    expect(schema, 'what the comparison covers').toContain('applied 0001-media');
    expect(await schemaOf(one)).toEqual(schema);
    expect(await schemaOf(two)).toEqual(schema);
  });

  it('is another template when a migration changes', async () => {
    const changed = await scratch('key');
    await cp(sources, changed, { recursive: true });
    expect(embeddedTemplateKey(changed), 'the same sources').toBe(embeddedTemplateKey());
    const [first] = (await readdir(join(changed, 'migrations'))).sort();
    await writeFile(join(changed, 'migrations', first!), '\n// a change\n', { flag: 'a' });
    expect(embeddedTemplateKey(changed)).not.toBe(embeddedTemplateKey());
  });

  it('never copies a template without its manifest, written last (a builder died, or is still at work)', async () => {
    const templates = await scratch('half');
    const key = embeddedTemplateKey();
    await mkdir(join(templates, key, 'pgdata'), { recursive: true });
    await writeFile(join(templates, key, 'pgdata', 'PG_VERSION'), '17\n');
    // A live builder holds the template's lock: the opener waits for it, then gives up on the template.
    const builder = lockEmbeddedDatabase(join(templates, key));
    cleanup.push(async () => builder.release());
    const dir = join(templates, 'database');
    expect(await startFromTemplate(dir, { dir: templates, key, waitMs: 1_000 })).toBe('unavailable');
    expect(existsSync(dir), 'the database folder after a refused template').toBe(false);
  });
});
