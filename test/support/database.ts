import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { inject } from 'vitest';
import { APP_ROLE, createDatabase, migrateToLatest, type Database } from '@media/db';

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
