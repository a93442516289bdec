import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/**
 * A database of its own on the run's PostgreSQL server, for tests whose subject looks at every row
 * (the sweeper, a restarted stack): in the shared database they would act on other tests' rows.
 * Without a server (PGlite runs) there is nothing to share, so `url` is undefined.
 */
export async function isolatedDatabase(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const shared = inject('databaseUrl');
  if (!shared) return { url: undefined, drop: async () => {} };
  const name = `media_pipeline_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: shared });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(shared);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}
