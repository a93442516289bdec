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
