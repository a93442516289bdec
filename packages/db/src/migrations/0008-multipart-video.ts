import { sql, type Kysely } from 'kysely';
import { RESERVE_UPLOADS_FUNCTION } from './0004-usage-counters';

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
  // The reservation writes the new columns too, and sizes past 2^31.
  await sql.raw(RESERVE_UPLOADS_WITH_MULTIPART).execute(db);
}

/** `media_reserve_uploads` of 0004, inserting a multipart upload's id and plan, the kind, and bigint sizes. */
const RESERVE_UPLOADS_WITH_MULTIPART = RESERVE_UPLOADS_FUNCTION.replace(
  `declared_size, filename, upload_expires_at, variants)`,
  `declared_size, filename, upload_expires_at, variants, kind, multipart_upload_id, part_size, part_count)`,
)
  .replace(
    `(x->>'declared_size')::integer, x->>'filename', (x->>'upload_expires_at')::timestamptz, '[]'::jsonb`,
    `(x->>'declared_size')::bigint, x->>'filename', (x->>'upload_expires_at')::timestamptz, '[]'::jsonb,
         coalesce(x->>'kind', 'image'), x->>'multipart_upload_id', (x->>'part_size')::bigint, (x->>'part_count')::integer`,
  );
if (RESERVE_UPLOADS_WITH_MULTIPART.split('multipart_upload_id').length !== 3) {
  throw new Error('0008: media_reserve_uploads of 0004 no longer has the shape this migration extends');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql.raw(RESERVE_UPLOADS_FUNCTION).execute(db);
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
