import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { copyDatabase, databaseUrl, dropDatabase } from '../../support/database-server';

/**
 * A database of its own on the run's PostgreSQL server, for tests whose subject looks at every row
 * (the sweeper, a restarted stack): in the shared database they would act on other tests' rows.
 * A copy of the run's migrated template, so the stack that opens it finds it migrated. Without a
 * server (PGlite runs) there is nothing to share, so `url` is undefined.
 */
export async function isolatedDatabase(): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const shared = inject('databaseUrl');
  if (!shared) return { url: undefined, drop: async () => {} };
  const name = `media_pipeline_${Date.now()}_${randomBytes(3).toString('hex')}`;
  await copyDatabase(shared, inject('templateDatabase'), name);
  return { url: databaseUrl(shared, name), drop: () => dropDatabase(shared, name) };
}
