import { CamelCasePlugin, Kysely, PostgresDialect, type CompiledQuery, type LogEvent } from 'kysely';
import pg from 'pg';
import { readScopeOf, type Principal } from '@media/core';
import { MediaRepository, reserveSampleUpload, type Database } from '@media/db';

/** What the server spent on each request-path query (EXPLAIN ANALYZE), for one school. */
export interface QueryCost {
  name: string;
  /** Execution plus planning time of the statements the call ran, in ms (median of 5 runs). */
  ms: number;
  /** Scan nodes of the plan, e.g. `Index Scan media_tenant_uploader`. */
  scans: string[];
}

interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: Plan[];
}
const nodesOf = (plan: Plan): Plan[] => [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];

function inline(query: CompiledQuery): string {
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = query.parameters[Number(n) - 1];
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'number') return String(value);
    if (value instanceof Date) return `'${value.toISOString()}'::timestamptz`;
    return `'${String(value).replaceAll("'", "''")}'`;
  });
}

export async function measureQueryCosts(databaseUrl: string, tenant: string): Promise<QueryCost[]> {
  let captured: CompiledQuery[] = [];
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool }),
    plugins: [new CamelCasePlugin()],
    log: (event: LogEvent) => {
      if (event.level === 'query') captured.push(event.query);
    },
  });
  const repo = new MediaRepository(db);
  const who: Record<string, Principal> = {
    student: { role: 'student', tenant, sub: 's-3', classrooms: ['c-1'] },
    teacher: { role: 'teacher', tenant, sub: 't-2', classrooms: ['c-2'] },
    admin: { role: 'admin', tenant, sub: 'admin-1', classrooms: [] },
    'ai-service': { role: 'service', tenant, sub: 'ai-service', classrooms: [] },
  };
  const reference = await db
    .selectFrom('media')
    .select(['id', 'phash'])
    .where('tenant', '=', tenant)
    .where('status', '=', 'ready')
    .where('phash', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  const deepCursor = async (p: Principal) => {
    let page = await repo.listVisible(readScopeOf(p), {}, 50);
    for (let i = 0; i < 20 && page.nextCursor; i++) {
      const next = await repo.listVisible(readScopeOf(p), {}, 50, page.nextCursor);
      if (!next.nextCursor) break;
      page = next;
    }
    return page.nextCursor ?? undefined;
  };
  const calls: [string, () => Promise<unknown>][] = [];
  for (const [name, p] of Object.entries(who)) {
    calls.push([`list ${name}`, () => repo.listVisible(readScopeOf(p), {}, 50)]);
    const cursor = await deepCursor(p);
    calls.push([`list ${name}, deep cursor`, () => repo.listVisible(readScopeOf(p), {}, 50, cursor)]);
  }
  calls.push(['list admin status=rejected', () => repo.listVisible(readScopeOf(who.admin!), { status: 'rejected' }, 50)]);
  calls.push(['list teacher purpose=attendance', () => repo.listVisible(readScopeOf(who.teacher!), { purpose: 'attendance' }, 50)]);
  const near = { phash: reference.phash!, maxDistance: 6, excludeId: reference.id };
  calls.push(['duplicates (admin)', () => repo.listVisible(readScopeOf(who.admin!), { nearPhash: near }, 50)]);
  calls.push(['duplicates (student)', () => repo.listVisible(readScopeOf(who.student!), { nearPhash: near }, 50)]);
  calls.push(['get one', () => repo.findInTenant(tenant, reference.id)]);
  calls.push(['usage by purpose', () => repo.usage(tenant, 'purpose')]);
  calls.push(['usage by subject', () => repo.usage(tenant, 'subject')]);
  // The reservation, run as it is (insert, counters' trigger, the checks' reads) and rolled back.
  calls.push([
    'upload (media_reserve_uploads)',
    () =>
      db
        .transaction()
        .execute(async (trx) => {
          await reserveSampleUpload(new MediaRepository(trx), tenant, { schoolQuotaBytes: 1e15, personQuotaBytes: null, maxPending: 1000 });
          throw new Refused();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Refused)) throw error;
        }),
  ]);
  calls.push(['sweeper: stalled', () => repo.listStalled(900, 100)]);
  calls.push(['sweeper: unannounced', () => repo.listUnannounced(100)]);
  calls.push(['sweeper: unpurged', () => repo.listUnpurged(100)]);
  calls.push(['stack start: unfinished batch', () => repo.listUnfinished({ graceSeconds: 900, limit: 500 })]);

  const costs: QueryCost[] = [];
  try {
    for (const [name, run] of calls) {
      captured = [];
      await run();
      const statements = captured.filter((q) => !/^\s*(begin|commit|rollback)/i.test(q.sql));
      const runs: number[] = [];
      let scans: string[] = [];
      for (let i = 0; i < 5; i++) {
        let total = 0;
        scans = [];
        for (const q of statements) {
          // Writes are explained inside a transaction that is rolled back.
          const client = await pool.connect();
          try {
            await client.query('begin');
            const { rows } = await client.query(`explain (analyze, format json) ${inline(q)}`);
            await client.query('rollback');
            const result = rows[0]['QUERY PLAN'][0] as { Plan: Plan; 'Execution Time': number; 'Planning Time': number };
            total += result['Execution Time'] + result['Planning Time'];
            for (const node of nodesOf(result.Plan)) {
              if (/Scan/.test(node['Node Type']))
                scans.push(`${node['Node Type']} ${node['Index Name'] ?? node['Relation Name'] ?? ''}`.trim());
            }
          } finally {
            client.release();
          }
        }
        runs.push(total);
      }
      runs.sort((a, b) => a - b);
      costs.push({ name, ms: runs[Math.floor(runs.length / 2)]!, scans: [...new Set(scans)] });
    }
  } finally {
    await db.destroy();
  }
  return costs;
}

class Refused extends Error {}

// Run on its own: tsx bench/query-costs.ts <tenant> (DATABASE_URL names the database).
if (import.meta.url === `file://${process.argv[1]}`) {
  const tenant = process.argv[2];
  if (!process.env.DATABASE_URL || !tenant) {
    console.error('usage: DATABASE_URL=… tsx bench/query-costs.ts <tenant>');
    process.exit(2);
  }
  for (const c of await measureQueryCosts(process.env.DATABASE_URL, tenant)) {
    console.log(`${c.name.padEnd(40)} ${c.ms.toFixed(2).padStart(8)} ms  ${c.scans.join(', ')}`);
  }
}
