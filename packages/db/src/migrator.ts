import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Database } from './database';
import * as media0001 from './migrations/0001-media';
import * as eventOutbox0002 from './migrations/0002-event-outbox';
import * as appRole0003 from './migrations/0003-app-role';
import * as usageCounters0004 from './migrations/0004-usage-counters';
import * as capturedAt0005 from './migrations/0005-captured-at';
import * as purgeAfter0006 from './migrations/0006-purge-after';
import * as rights0007 from './migrations/0007-rights';
import * as multipartVideo0008 from './migrations/0008-multipart-video';
import * as durableReservations0009 from './migrations/0009-durable-reservations';
import * as usageShards0010 from './migrations/0010-usage-shards';
import * as subjects0011 from './migrations/0011-subjects';
import * as faces0012 from './migrations/0012-faces';
import * as usageVersions0013 from './migrations/0013-usage-versions';
import * as pendingOfUploader0014 from './migrations/0014-pending-of-uploader';

/** Migrations are listed here rather than read from disk, so they bundle into a Lambda as-is. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-media': media0001,
  '0002-event-outbox': eventOutbox0002,
  '0003-app-role': appRole0003,
  '0004-usage-counters': usageCounters0004,
  '0005-captured-at': capturedAt0005,
  '0006-purge-after': purgeAfter0006,
  '0007-rights': rights0007,
  '0008-multipart-video': multipartVideo0008,
  '0009-durable-reservations': durableReservations0009,
  '0010-usage-shards': usageShards0010,
  '0011-subjects': subjects0011,
  '0012-faces': faces0012,
  '0013-usage-versions': usageVersions0013,
  '0014-pending-of-uploader': pendingOfUploader0014,
};

export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error;
  return result;
}
