import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AccessAuditLog, createDatabase, type AuditFilter, type Database } from '@media/db';
import { scratchDatabase, type ScratchDatabase } from '../../../test/support/database';
import { nodesOf, planRecorder, type Plan } from '../../../test/support/query-plans';

/**
 * The audit log's pages at scale, read by their plans: against 200k rows of 50 schools, every
 * filter and the cursor's next page read one of the log's indexes and never scan the table.
 */
const ROWS = 200_000;
// Seeding is a few bulk INSERTs on the server, seconds alone; on a server shared with other runs it
// took over three minutes. A ceiling for a stuck seed, not a budget.
const SEEDING_CEILING_MS = 600_000;
const serverUrl = inject('databaseUrl');

describe.runIf(serverUrl)('audit log plans at 200k rows', () => {
  let scratch: ScratchDatabase;
  let db: Kysely<Database>;
  let recorder: ReturnType<typeof planRecorder>;
  let log: AccessAuditLog;

  beforeAll(async () => {
    scratch = await scratchDatabase('audit_plans', { migrated: true });
    db = await createDatabase({ url: scratch.url, poolSize: 2 });
    await sql`insert into access_audit (at, tenant, actor, actor_role, action, media_id, subject_id, variant)
      select now() - (n || ' seconds')::interval, 'school-' || (n % 50), 'user-' || (n % 400), 'teacher',
             (array['download','delete','legal-hold','consent','erasure','export'])[1 + n % 6],
             gen_random_uuid(), 'child-' || (n % 3000), 'thumb'
      from generate_series(1, ${ROWS}) n`.execute(db);
    await sql`analyze access_audit`.execute(db);
    recorder = planRecorder(scratch.url);
    log = new AccessAuditLog(recorder.db);
  }, SEEDING_CEILING_MS);

  afterAll(async () => {
    await recorder?.db.destroy();
    await db?.destroy();
    await scratch?.drop();
  });

  async function planOf(filter: AuditFilter, cursor?: string): Promise<{ plan: Plan; nextCursor: string | null }> {
    let nextCursor: string | null = null;
    const [plan] = await recorder.plansOf(db, async () => {
      nextCursor = (await log.list('school-7', filter, 50, cursor)).nextCursor;
    });
    return { plan: plan!, nextCursor };
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
