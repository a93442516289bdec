import type { Kysely } from 'kysely';
import { createDatabase } from '../connection';
import type { Database } from '../database';
import { isEmbeddedDatabaseInUse } from '../embedded-database-lock';
import { loadDatabaseOptionsFromEnv } from '../env';

/**
 * The database a command-line tool works on: DATABASE_URL, else the PGlite folder under
 * MEDIA_DATA_DIR. When another process holds that folder, the tool says so in one sentence and
 * exits 1 (a second writer would corrupt it).
 */
export async function openToolDatabase(env: Record<string, string | undefined>): Promise<Kysely<Database>> {
  try {
    return await createDatabase(loadDatabaseOptionsFromEnv(env));
  } catch (error) {
    if (!isEmbeddedDatabaseInUse(error)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
