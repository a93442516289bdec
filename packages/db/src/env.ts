import type { DatabaseOptions } from './connection';

/**
 * For the command-line tools and the migrate function: DATABASE_URL (signed in with an IAM token
 * when MEDIA_DB_IAM_AUTH is set), else the local stack's PGlite directory.
 */
export function loadDatabaseOptionsFromEnv(env: Record<string, string | undefined>): DatabaseOptions {
  if (env.DATABASE_URL) {
    const iamAuth = env.MEDIA_DB_IAM_AUTH === 'true' || env.MEDIA_DB_IAM_AUTH === '1';
    return { url: env.DATABASE_URL, ...(iamAuth ? { iamAuth: { region: env.AWS_REGION ?? 'us-east-1' } } : {}) };
  }
  return { pgliteDir: env.MEDIA_PGLITE_DIR ?? '.data/pglite' };
}
