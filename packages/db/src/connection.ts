import { CamelCasePlugin, Kysely, PostgresDialect, type Dialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database';
import { durablePgliteOptions } from './durable-pglite';
import { lockEmbeddedDatabase } from './embedded-database-lock';
import { rdsIamConnection } from './rds-iam-auth';

export interface DatabaseOptions {
  /** A PostgreSQL connection string (AWS, tests). */
  url?: string;
  /** A directory for an embedded PGlite database (the local stack). */
  pgliteDir?: string;
  /** Connections per process; a Lambda needs one or two. */
  poolSize?: number;
  /** How long a query waits for a free connection before failing (an overload answer, not a hang). */
  connectTimeoutMs?: number;
  /** Server-side budgets per statement and per lock wait; unset for migrations and tools. */
  statementTimeoutMs?: number;
  lockTimeoutMs?: number;
  /** Sign in to RDS Proxy with an IAM token instead of a password (AWS). */
  iamAuth?: { region: string };
  /**
   * Where a new PGlite folder's migrated template is kept (embedded-database-template.ts): by
   * default the user's cache; false to let PGlite create the database from nothing.
   */
  pgliteTemplates?: string | false;
}

// Sizes and counts are int4 or int8; int8 (from sums) arrives as text unless parsed.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export async function createDatabase(options: DatabaseOptions): Promise<Kysely<Database>> {
  let dialect: Dialect;
  if (options.url) {
    const pool = new pg.Pool({
      ...(options.iamAuth ? rdsIamConnection(options.url, options.iamAuth.region) : { connectionString: options.url }),
      max: options.poolSize ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      // Sent at sign-in, so no statement ever runs without them (and RDS Proxy sees no SET).
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.lockTimeoutMs ? { lock_timeout: options.lockTimeoutMs } : {}),
    });
    // An idle connection cut by the server or a failover is reported here; unheard, it would crash
    // the process. The pool has already dropped it, and the next query opens a new one.
    pool.on('error', () => undefined);
    // The same for a connection cut while checked out (between a transaction's queries, say): the
    // query in flight fails on its own; the client's error event must not crash the process.
    pool.on('connect', (client) => client.on('error', () => undefined));
    dialect = new PostgresDialect({ pool });
  } else if (options.pgliteDir) {
    // Loaded only when asked for: Lambdas never ship the WASM build.
    const { PGlite } = await import('@electric-sql/pglite');
    const { PGliteDialect } = await import('kysely-pglite-dialect');
    const parsers = { 20: (value: string) => Number(value) };
    if (options.pgliteDir === 'memory://') {
      const pglite = new PGlite({ parsers });
      await pglite.waitReady;
      dialect = new PGliteDialect(pglite);
    } else {
      // One process per folder (embedded-database-lock.ts), held until `destroy()` or exit.
      const lock = lockEmbeddedDatabase(options.pgliteDir);
      try {
        // A folder that does not exist yet starts as a copy of a migrated one, under this lock.
        // Imported here, not at the top: it brings the migrations, which no Lambda bundle should
        // read at cold start (with code splitting it is a chunk the functions never load).
        if (options.pgliteTemplates !== false) {
          const { embeddedTemplatesDir, startFromTemplate } = await import('./embedded-database-template');
          await startFromTemplate(options.pgliteDir, { dir: options.pgliteTemplates ?? embeddedTemplatesDir() });
        }
        const pglite = new PGlite({ ...(await durablePgliteOptions(options.pgliteDir)), parsers });
        await pglite.waitReady;
        dialect = releasingOnDestroy(new PGliteDialect(pglite), lock.release);
      } catch (error) {
        lock.release();
        throw error;
      }
    }
  } else {
    throw new Error('createDatabase needs a url or a pgliteDir');
  }
  return new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin()] });
}

/** The dialect, whose driver also runs `release` once the database is closed. */
function releasingOnDestroy(dialect: Dialect, release: () => void): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createDriver: () => {
      const driver = dialect.createDriver();
      const destroy = driver.destroy.bind(driver);
      driver.destroy = async () => {
        try {
          await destroy();
        } finally {
          release();
        }
      };
      return driver;
    },
  };
}
