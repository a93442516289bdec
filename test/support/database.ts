import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { APP_ROLE, createDatabase, migrateToLatest, type Database } from '@media/db';
import { copyDatabase, databaseUrl, dropDatabase, emptyDatabase } from './database-server';

/** The run's PostgreSQL database, or a fresh in-memory PGlite when no DATABASE_URL was given. */
export async function testDatabase(): Promise<Kysely<Database>> {
  const url = inject('databaseUrl');
  const db = url ? await createDatabase({ url, poolSize: 4 }) : await createDatabase({ pgliteDir: 'memory://' });
  if (!url) await migrateToLatest(db);
  return db;
}

/** Tests share one database: each works in a tenant of its own. */
export const uniqueTenant = (label = 'school') => `${label}-${randomBytes(4).toString('hex')}`;

/** The same database as the functions sign in to it: as the DML-only app role (trust auth locally). */
export function appDatabaseUrl(url: string): string {
  const app = new URL(url);
  app.username = APP_ROLE;
  app.password = '';
  return app.toString();
}

/**
 * The run's PostgreSQL database, for tests whose subject only ever runs against a real server
 * (the migrate function, a database outage). Without one the test fails and says why: it never
 * skips unnoticed.
 */
export function postgresUrl(): string {
  const url = inject('databaseUrl');
  if (!url) {
    throw new Error('This test needs PostgreSQL: set DATABASE_URL, or run a server on 127.0.0.1:5432 (trust auth for user postgres).');
  }
  return url;
}

/** Runs `work` with a client of its own connected to `url`, and closes it whatever happens. */
export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  name: string;
  /** As the server's owner user. */
  url: string;
  /** The same database as another user (the app role, say). */
  urlAs(user: string): string;
  drop(): Promise<void>;
}

/**
 * A database of a test's own on the run's PostgreSQL server, for what must not touch the shared
 * one (DDL that might succeed, a sweeper that acts on every row). Empty, for a migration from
 * nothing; or, with `migrated`, a copy of the run's migrated template (milliseconds, where
 * migrating again takes seconds on a busy machine).
 */
export async function scratchDatabase(label: string, { migrated = false }: { migrated?: boolean } = {}): Promise<ScratchDatabase> {
  const server = postgresUrl();
  const name = `media_${label}_${randomBytes(4).toString('hex')}`;
  if (migrated) await copyDatabase(server, inject('templateDatabase'), name);
  else await emptyDatabase(server, name);
  const urlAs = (user?: string) => {
    const url = new URL(databaseUrl(server, name));
    if (user) {
      url.username = user;
      url.password = '';
    }
    return url.toString();
  };
  return { name, url: urlAs(), urlAs, drop: () => dropDatabase(server, name) };
}
