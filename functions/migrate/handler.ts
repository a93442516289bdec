import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { createDatabase, loadDatabaseOptionsFromEnv, migrateToLatest } from '@media/db';
import { logger } from '../shared/observability';

/** What the CDK custom-resource framework expects back from its `onEvent` function. */
export interface SchemaResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

const PHYSICAL_ID = 'media-schema';

/**
 * The `Custom::MediaSchema` resource: on create and update it runs the Kysely migrations to the
 * latest one; on delete it leaves the schema alone (the data outlives the stack unless an
 * operator removes the database). A thrown error fails the deploy, which CloudFormation rolls back.
 */
export async function handler(event: CloudFormationCustomResourceEvent, context?: Context): Promise<SchemaResult> {
  if (context) logger.addContext(context);
  if (event.RequestType === 'Delete') {
    logger.info('schema left in place on delete');
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  // Never the local stack's PGlite fallback: a migrate function without a database is misconfigured.
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const db = await createDatabase({ ...loadDatabaseOptionsFromEnv(process.env), poolSize: 1 });
  try {
    const { results } = await migrateToLatest(db);
    const applied = (results ?? []).map((r) => r.migrationName);
    logger.info(applied.length ? 'migrations applied' : 'schema already up to date', { applied });
    return { PhysicalResourceId: PHYSICAL_ID, Data: { Applied: applied.join(',') || 'none' } };
  } finally {
    await db.destroy();
  }
}
