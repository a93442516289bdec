import type { Kysely } from 'kysely';

/**
 * When a photo was taken, from its EXIF DateTimeOriginal: the one piece of its metadata the
 * service keeps (attendance audits need it), since the stored original has none left. Text, as
 * the ISO 8601 date-time the record shows: with the camera's UTC offset when the file gave one,
 * the camera's local time without one — a zone the file did not name is not invented.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media').addColumn('captured_at', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('media').dropColumn('captured_at').execute();
}
