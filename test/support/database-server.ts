import pg from 'pg';

/**
 * What the tests do to the PostgreSQL server itself, as its owner user: databases made, copied and
 * dropped. No vitest here: the global setup uses it before any test runs.
 */

/** `serverUrl` pointing at another database of the same server. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function onServer(serverUrl: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A test run needs no durability: a commit that waits for its WAL flush on a busy machine holds its locks all that time. */
const relaxed = (name: string) => `alter database ${name} set synchronous_commit = off`;

/**
 * A new database `name` as a copy of `template`: its tables, rows and grants (the app role's
 * privileges live in the copied catalog; the role itself is server-wide). Per-database settings are
 * not copied, so they are set again here.
 */
export async function copyDatabase(serverUrl: string, template: string, name: string): Promise<void> {
  await onServer(serverUrl, [`create database ${name} template ${template}`, relaxed(name)]);
}

/** A new, empty database `name`: for what must start from nothing (a migration from scratch). */
export async function emptyDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, [`create database ${name}`, relaxed(name)]);
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  await onServer(serverUrl, [`drop database if exists ${name} with (force)`]);
}

/** The names the suite gives its databases: a run's (and its template) and a test's own scratch ones. */
const SUITE_DATABASE = /^media_test_\d+_[0-9a-f]{6}(_template)?$|^media_[a-z0-9_]+_[0-9a-f]{8}$/;

/** Of the server's databases, the suite's own made more than `hours` before `now`. */
export const staleSuiteDatabases = (databases: readonly { name: string; madeAt: Date }[], now: Date, hours: number): string[] =>
  databases.filter((db) => SUITE_DATABASE.test(db.name) && now.getTime() - db.madeAt.getTime() > hours * 3_600_000).map((db) => db.name);

/**
 * Drops the suite's databases left behind by runs that were killed before their teardown, once
 * they are older than `hours` (no run lasts that long): a database's age is its folder's, since
 * PostgreSQL records no creation time. Needs a superuser (pg_stat_file), as the suite's server
 * has; answers the names dropped.
 */
export async function dropStaleDatabases(serverUrl: string, hours: number): Promise<string[]> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  let stale: string[];
  try {
    const { rows } = await client.query<{ name: string; madeAt: Date; now: Date }>(
      `select datname as name, (pg_stat_file('base/' || oid || '/PG_VERSION')).modification as "madeAt", now() as now
         from pg_database`,
    );
    stale = rows.length > 0 ? staleSuiteDatabases(rows, rows[0]!.now, hours) : [];
  } finally {
    await client.end();
  }
  for (const name of stale) await dropDatabase(serverUrl, name);
  return stale;
}
