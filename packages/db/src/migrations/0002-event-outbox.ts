import { sql, type Kysely } from 'kysely';

/**
 * Outbound events become part of the row's state: a state change that announces itself
 * (ready, rejected, deleted) leaves `event_published_at` empty until its event is on the queue,
 * so a worker that dies in between is finished by the next delivery or the sweeper. `lease_owner`
 * fences a lease: only the worker that took it may complete or release it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media').addColumn('lease_owner', 'text').execute();
  await db.schema.alterTable('media').addColumn('event_published_at', 'timestamptz').execute();
  // Rows finished before this migration were announced by the code of their time.
  await sql`update media set event_published_at = coalesce(processed_at, deleted_at, now())
            where status in ('ready', 'rejected', 'deleted')`.execute(db);

  await db.schema
    .createIndex('media_unannounced')
    .on('media')
    .columns(['updated_at'])
    .where(sql<boolean>`status in ('ready', 'rejected', 'deleted') and event_published_at is null`)
    .execute();
  await db.schema
    .createIndex('media_unpurged')
    .on('media')
    .columns(['deleted_at'])
    .where(sql<boolean>`status = 'deleted' and purged_at is null`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('media_unpurged').execute();
  await db.schema.dropIndex('media_unannounced').execute();
  await db.schema.alterTable('media').dropColumn('event_published_at').execute();
  await db.schema.alterTable('media').dropColumn('lease_owner').execute();
}
