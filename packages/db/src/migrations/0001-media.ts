import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('media')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant', 'text', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('profile','attendance','training','general')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending','processing','ready','rejected','expired','deleted')`))
    .addColumn('subject_id', 'text')
    .addColumn('classroom_id', 'text')
    .addColumn('uploaded_by', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('declared_size', 'integer', (c) => c.notNull().check(sql`declared_size > 0`))
    .addColumn('size', 'integer')
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('sha256', 'text')
    .addColumn('phash', 'text')
    .addColumn('filename', 'text')
    .addColumn('placeholder', 'text')
    .addColumn('variants', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('original_key', 'text')
    .addColumn('legal_hold', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('rejection_code', 'text')
    .addColumn('rejection_detail', 'text')
    .addColumn('upload_expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('lease_expires_at', 'timestamptz')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('processed_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted_by', 'text')
    .addColumn('purged_at', 'timestamptz')
    .execute();

  // The list query always starts from a tenant and pages by id (UUIDv7, so by creation time).
  await db.schema.createIndex('media_tenant_id').on('media').columns(['tenant', 'id']).execute();
  await db.schema.createIndex('media_tenant_subject').on('media').columns(['tenant', 'subject_id', 'id']).execute();
  await db.schema.createIndex('media_tenant_classroom').on('media').columns(['tenant', 'classroom_id', 'id']).execute();
  await db.schema.createIndex('media_tenant_purpose').on('media').columns(['tenant', 'purpose', 'status', 'id']).execute();
  await db.schema.createIndex('media_tenant_sha256').on('media').columns(['tenant', 'sha256']).execute();
  await db.schema.createIndex('media_tenant_created').on('media').columns(['tenant', 'created_at']).execute();
  // The sweeper and the pending-upload limit look at unfinished rows only.
  await db.schema
    .createIndex('media_unfinished')
    .on('media')
    .columns(['status', 'upload_expires_at'])
    .where(sql.ref('status'), 'in', ['pending', 'processing'])
    .execute();
  await db.schema
    .createIndex('media_pending_by_uploader')
    .on('media')
    .columns(['tenant', 'uploaded_by'])
    .where(sql.ref('status'), '=', 'pending')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('media').execute();
}
