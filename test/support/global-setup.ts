import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDatabase, migrateToLatest } from '@media/db';
import { copyDatabase, databaseUrl, dropDatabase, dropStaleDatabases } from './database-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A fresh, migrated database for this run, or '' to use PGlite. */
    databaseUrl: string;
    /**
     * The run's migrated template database: `CREATE DATABASE x TEMPLATE` it for a database of a
     * test's own that needs no migration ('' with PGlite). Nobody may connect to it.
     */
    templateDatabase: string;
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

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The run's databases: on the server `DATABASE_URL` names, else on the machine's PostgreSQL when
 * one answers on 127.0.0.1:5432. The migrations run once, into a template database; the shared
 * database of the run and every database a test makes for itself are copies of it (a copy is a
 * file copy, a migration from nothing is a second or more of DDL per database on a busy machine).
 * All are dropped afterwards. With no server at all, tests fall back to PGlite (slower; the few
 * tests that need a real server then fail and say so). Says once which it is.
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
    project.provide('templateDatabase', '');
    return;
  }
  // A killed run never reached its teardown: its copies would pile up on the server.
  const stale = await dropStaleDatabases(serverUrl, 12).catch((error: Error) => {
    console.log(`tests: left the databases of earlier runs in place (${error.message})`);
    return [];
  });
  if (stale.length > 0) console.log(`tests: dropped ${stale.length} database(s) left by killed runs over 12 h ago`);
  const run = `media_test_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const template = `${run}_template`;

  const migrating = Date.now();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${template}`);
    const db = await createDatabase({ url: databaseUrl(serverUrl, template), poolSize: 1 });
    await migrateToLatest(db).finally(() => db.destroy());
    // A copy fails while anyone is connected to its template: from now on nobody can be.
    await admin.query(`alter database ${template} allow_connections false`);
  } finally {
    await admin.end();
  }
  const migrated = Date.now();
  await copyDatabase(serverUrl, template, run);
  const copied = Date.now();

  project.provide('databaseUrl', databaseUrl(serverUrl, run));
  project.provide('templateDatabase', template);
  const server = new URL(serverUrl);
  console.log(
    `tests: database = PostgreSQL ${server.host}/${run} (${given ? 'DATABASE_URL' : 'found on 127.0.0.1:5432'}), dropped at the end; ` +
      `migrated once in ${seconds(migrated - migrating)}, each copy of the template ~${seconds(copied - migrated)}`,
  );

  return async () => {
    await dropDatabase(serverUrl, run);
    // Last: a copy still being made would hold the template.
    await dropDatabase(serverUrl, template);
  };
}
