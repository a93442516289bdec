import type { Kysely } from 'kysely';

/**
 * A delete that lands while a worker processes the item cannot know what that worker will still
 * write: `purge_after` is the end of the worker's lease at the time of the delete (or the delete
 * itself when no worker held one). A purge is only recorded once that moment has passed and the
 * bucket holds nothing of the item; until then every delivery and sweeper run purges it again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media').addColumn('purge_after', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media').dropColumn('purge_after').execute();
}
