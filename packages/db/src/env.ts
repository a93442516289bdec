import { join } from 'node:path';
import type { DatabaseOptions } from './connection';

/** Where the local stack and every tool keep their state unless MEDIA_DATA_DIR says otherwise. */
export const DEFAULT_DATA_DIR = '.data';

/** The one place the embedded database's folder is derived from the data directory. */
export function pgliteDirIn(dataDir: string): string {
  return join(dataDir, 'pglite');
}

/**
 * For the command-line tools and the migrate function: DATABASE_URL (signed in with an IAM token
 * when MEDIA_DB_IAM_AUTH is set), else the local stack's PGlite folder under MEDIA_DATA_DIR (as
 * `npm start` derives it, so every tool opens the same database).
 */
export function loadDatabaseOptionsFromEnv(env: Record<string, string | undefined>): DatabaseOptions {
  if (env.DATABASE_URL) {
    const iamAuth = env.MEDIA_DB_IAM_AUTH === 'true' || env.MEDIA_DB_IAM_AUTH === '1';
    return { url: env.DATABASE_URL, ...(iamAuth ? { iamAuth: { region: env.AWS_REGION ?? 'us-east-1' } } : {}) };
  }
  return { pgliteDir: pgliteDirIn(env.MEDIA_DATA_DIR || DEFAULT_DATA_DIR) };
}
