import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase, migrateToLatest } from '@media/db';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh, migrated database for this run, or '' to use PGlite. */
    databaseUrl: string;
  }
}

/** Where a developer machine or CI runs PostgreSQL when nobody says otherwise (trust on loopback). */
export const PROBED_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Whether a PostgreSQL server answers at `url` within a couple of seconds. */
async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * The run's database: on the server `DATABASE_URL` names, else on the machine's PostgreSQL when one
 * answers on 127.0.0.1:5432, a database created for this run, migrated, and dropped afterwards.
 * With no server at all, tests fall back to PGlite (slower; the few tests that need a real server
 * then fail and say so). Says once which it is.
 */
export default async function setup(project: TestProject) {
  const given = process.env.DATABASE_URL || undefined;
  const serverUrl = given ?? ((await answers(PROBED_SERVER_URL)) ? PROBED_SERVER_URL : undefined);
  if (!serverUrl) {
    console.log(
      'tests: database = PGlite (no DATABASE_URL, and no PostgreSQL answers on 127.0.0.1:5432); ' +
        'the tests that need a real server will fail',
    );
    project.provide('databaseUrl', '');
    return;
  }
  const name = `media_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  // A test run needs no durability. On a busy machine a commit that waits for its WAL flush holds
  // the school's counter row all that time, and the next upload of the school meets the lock timeout.
  await admin.query(`alter database ${name} set synchronous_commit = off`);
  await admin.end();

  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await createDatabase({ url: url.toString() });
  await migrateToLatest(db);
  await db.destroy();
  project.provide('databaseUrl', url.toString());
  const server = new URL(serverUrl);
  console.log(`tests: database = PostgreSQL ${server.host}/${name} (${given ? 'DATABASE_URL' : 'found on 127.0.0.1:5432'}), dropped at the end`);

  return async () => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  };
}
