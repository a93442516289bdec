import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from './database';
import * as media0001 from './migrations/0001-media';
import * as eventOutbox0002 from './migrations/0002-event-outbox';
import * as usageCounters0004 from './migrations/0004-usage-counters';

/** Migrations are listed here rather than read from disk, so they bundle into a Lambda as-is. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-media': media0001,
  '0002-event-outbox': eventOutbox0002,
  '0004-usage-counters': usageCounters0004,
};

export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
