import type { DatabaseOptions } from './connection';

/** For the command-line tools: DATABASE_URL, else the local stack's PGlite directory. */
export function loadDatabaseOptionsFromEnv(env: Record<string, string | undefined>): DatabaseOptions {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL };
  return { pgliteDir: env.MEDIA_PGLITE_DIR ?? '.data/pglite' };
}
