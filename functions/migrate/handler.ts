import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { auditRetentionDaysOf } from '@media/core';
import { APP_ROLE, createDatabase, loadDatabaseOptionsFromEnv, migrateToLatest, recordAuditRetention, setAppRolePassword } from '@media/db';
import { logger } from '../shared/observability';

/** What the CDK custom-resource framework expects back from its `onEvent` function. */
export interface SchemaResult {
  PhysicalResourceId: string;
  Data?: Record<string, string>;
}

const PHYSICAL_ID = 'media-schema';

/**
 * The `Custom::MediaSchema` resource: on create and update it runs the Kysely migrations to the
 * latest one, then gives the app role (which the service functions sign in as through the proxy)
 * the password of its secret; on delete it leaves the schema alone (the data outlives the stack
 * unless an operator removes the database). A thrown error fails the deploy, which CloudFormation
 * rolls back.
 */
export async function handler(event: CloudFormationCustomResourceEvent, context?: Context): Promise<SchemaResult> {
  if (context) logger.addContext(context);
  if (event.RequestType === 'Delete') {
    logger.info('schema left in place on delete');
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  // Never the local stack's PGlite fallback: a migrate function without a database is misconfigured.
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is not set');
  const appSecretArn = process.env.MEDIA_APP_DB_SECRET_ARN;
  // Read before migrating: a secret the function cannot read fails the deploy before any change.
  const app = appSecretArn ? await readAppCredentials(appSecretArn) : undefined;
  const auditDays = auditRetentionDaysOf(process.env);
  const db = await createDatabase({ ...loadDatabaseOptionsFromEnv(process.env), poolSize: 1 });
  try {
    const { results } = await migrateToLatest(db);
    const applied = (results ?? []).map((r) => r.migrationName);
    logger.info(applied.length ? 'migrations applied' : 'schema already up to date', { applied });
    // The deploy's audit retention, which the app role's prune cannot undercut.
    await recordAuditRetention(db, auditDays);
    if (app) {
      await setAppRolePassword(db, app.password, app.username);
      logger.info('app role password set from its secret', { role: app.username });
    }
    return { PhysicalResourceId: PHYSICAL_ID, Data: { Applied: applied.join(',') || 'none' } };
  } finally {
    await db.destroy();
  }
}

/**
 * The app role's credentials from its Secrets Manager secret (the JSON of an RDS secret). The
 * errors name the secret and what is wrong with it, never its value.
 */
async function readAppCredentials(secretArn: string): Promise<{ username: string; password: string }> {
  let text: string | undefined;
  try {
    const secrets = new SecretsManagerClient({});
    text = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new Error(`cannot read the app role's secret ${secretArn} (${reason}); the app role would have no password`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    throw new Error(`the app role's secret ${secretArn} is not the JSON of a database secret`);
  }
  const { username = APP_ROLE, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string' || !username || !password) {
    throw new Error(`the app role's secret ${secretArn} has no username and password`);
  }
  return { username, password };
}
