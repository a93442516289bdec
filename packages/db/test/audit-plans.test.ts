import { randomBytes } from 'node:crypto';
import { CamelCasePlugin, Kysely, PostgresDialect, sql, type CompiledQuery, type LogEvent } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessAuditLog, createDatabase, migrateToLatest, type AuditFilter, type Database } from '@media/db';

/**
 * The audit log's pages at scale, read by their plans: against 200k rows of 50 schools, every
 * filter and the cursor's next page read one of the log's indexes and never scan the table.
 */
const ROWS = 200_000;
const serverUrl = inject('databaseUrl');

interface Plan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: Plan[];
}
const nodesOf = (plan: Plan): Plan[] => [plan, ...(plan.Plans ?? []).flatMap(nodesOf)];

describe.runIf(serverUrl)('audit log plans at 200k rows', () => {
  const name = `media_audit_plans_${randomBytes(4).toString('hex')}`;
  let db: Kysely<Database>;
  let recorder: Kysely<Database>;
  let captured: CompiledQuery[] = [];
  let log: AccessAuditLog;

  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(statement);
    await client.end();
  };

  beforeAll(async () => {
    await admin(`create database ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    db = await createDatabase({ url: url.toString(), poolSize: 2 });
    await migrateToLatest(db);
    await sql`insert into access_audit (at, tenant, actor, actor_role, action, media_id, subject_id, variant)
      select now() - (n || ' seconds')::interval, 'school-' || (n % 50), 'user-' || (n % 400), 'teacher',
             (array['download','delete','legal-hold','consent','erasure','export'])[1 + n % 6],
             gen_random_uuid(), 'child-' || (n % 3000), 'thumb'
      from generate_series(1, ${ROWS}) n`.execute(db);
    await sql`analyze access_audit`.execute(db);
    recorder = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url.toString(), max: 2 }) }),
      plugins: [new CamelCasePlugin()],
      log: (event: LogEvent) => {
        if (event.level === 'query') captured.push(event.query);
      },
    });
    log = new AccessAuditLog(recorder);
  }, 180_000);

  afterAll(async () => {
    await recorder?.destroy();
    await db?.destroy();
    await admin(`drop database if exists ${name} with (force)`);
  });

  const literal = (value: unknown) =>
    value === null ? 'null' : typeof value === 'number' ? String(value) : `'${(value instanceof Date ? value.toISOString() : String(value)).replace(/'/g, "''")}'`;
  const inline = (query: CompiledQuery) => query.sql.replace(/\$(\d+)/g, (_, n: string) => literal(query.parameters[Number(n) - 1]));

  async function planOf(filter: AuditFilter, cursor?: string): Promise<{ plan: Plan; nextCursor: string | null }> {
    captured = [];
    const page = await log.list('school-7', filter, 50, cursor);
    const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: Plan }] }>`explain (format json) ${sql.raw(inline(captured[0]!))}`.execute(db);
    return { plan: rows[0]!['QUERY PLAN'][0].Plan, nextCursor: page.nextCursor };
  }

  const FILTERS: [string, AuditFilter][] = [
    ['the whole school', {}],
    ['one person', { subjectId: 'child-7' }],
    ['one actor', { actor: 'user-7' }],
    ['one action', { action: 'consent' }],
    ['a time window', { after: new Date(Date.now() - 86_400_000).toISOString(), before: new Date().toISOString() }],
  ];

  it.each(FILTERS)('reads %s from an index, first page and next', async (_label, filter) => {
    const first = await planOf(filter);
    expect(first.nextCursor).not.toBeNull();
    const next = await planOf(filter, first.nextCursor!);
    for (const plan of [first.plan, next.plan]) {
      const nodes = nodesOf(plan);
      expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name'])).toEqual([]);
      expect(nodes.some((n) => /Index/.test(n['Node Type']) && n['Index Name']?.startsWith('access_audit_'))).toBe(true);
    }
  });
});
