import { sql, type Kysely } from 'kysely';

const sqlKind = sql`kind in ('image', 'video')`;

/**
 * Large media. A multipart upload's S3 upload id and its plan (part size and count) stay with the
 * row, so only the uploader's calls name it and the sweeper can abort it once it expires. Videos
 * are media like photos: `kind` says which, `duration_seconds` is a video's length from its bytes.
 * Sizes become bigint: a video may be 2 GiB and more, past what an integer holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table media alter column declared_size type bigint, alter column size type bigint`.execute(db);
  await db.schema
    .alterTable('media')
    .addColumn('multipart_upload_id', 'text')
    .addColumn('part_size', 'bigint')
    .addColumn('part_count', 'integer')
    .addColumn('kind', 'text', (col) => col.notNull().defaultTo('image').check(sqlKind))
    .addColumn('duration_seconds', 'double precision')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table media alter column declared_size type integer, alter column size type integer`.execute(db);
  await db.schema
    .alterTable('media')
    .dropColumn('multipart_upload_id')
    .dropColumn('part_size')
    .dropColumn('part_count')
    .dropColumn('kind')
    .dropColumn('duration_seconds')
    .execute();
}
