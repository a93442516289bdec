import { CamelCasePlugin, Kysely, PostgresDialect, sql, type CompiledQuery, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Database } from '@media/db';

/** One node of PostgreSQL's JSON plan, with its children. */
export interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  /** With EXPLAIN ANALYZE. */
  'Actual Rows'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: Plan[];
}

export const nodesOf = (plan: Plan): Plan[] => [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return `'${value.toISOString()}'::timestamptz`;
  return `'${String(value).replaceAll("'", "''")}'`;
}

/** A compiled query with its parameters written in, so EXPLAIN plans it with the real values. */
export const inline = (query: CompiledQuery) => query.sql.replace(/\$(\d+)/g, (_, n: string) => literal(query.parameters[Number(n) - 1]));

/**
 * A second client on a database that records the statements code runs through it, so a test can
 * ask PostgreSQL for the plan of exactly what the repository sent (not a hand-written copy of it).
 */
export function planRecorder(url: string) {
  let captured: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
    plugins: [new CamelCasePlugin()],
    log: (event: LogEvent) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  return {
    db,
    /** The plans of the statements `run` sent (transaction control left out), explained on `explainer`. */
    async plansOf(explainer: Kysely<Database>, run: () => Promise<unknown>): Promise<Plan[]> {
      captured = [];
      await run();
      const plans: Plan[] = [];
      for (const query of captured) {
        if (/^\s*(begin|commit|rollback)/i.test(query.sql)) continue;
        const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: Plan }] }>`explain (format json) ${sql.raw(inline(query))}`.execute(explainer);
        plans.push(rows[0]!['QUERY PLAN'][0].Plan);
      }
      return plans;
    },
  };
}
