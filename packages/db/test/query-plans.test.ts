import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readScopeOf, type Principal, type Purpose } from '@media/core';
import { createDatabase, MediaRepository, reserveSampleUpload, seedMedia, type Database, type SeededSchool } from '@media/db';
import { scratchDatabase, type ScratchDatabase } from '../../../test/support/database';
import { nodesOf, planRecorder, type Plan } from '../../../test/support/query-plans';

/**
 * The request-path queries at scale, read by their plans (not their timings): against 100k seeded
 * rows, each reads indexes, and none scans the media table or the counters.
 */
const ROWS = 100_000;
// Seeding is a few bulk INSERTs on the server, seconds alone; on a server shared with other runs it
// took over three minutes. A ceiling for a stuck seed, not a budget.
const SEEDING_CEILING_MS = 600_000;
const serverUrl = inject('databaseUrl');

describe.runIf(serverUrl)('query plans at 100k rows', () => {
  let scratch: ScratchDatabase;
  let db: Kysely<Database>;
  let recorder: ReturnType<typeof planRecorder>;
  let repo: MediaRepository;
  let largest: SeededSchool;

  beforeAll(async () => {
    scratch = await scratchDatabase('plans', { migrated: true });
    db = await createDatabase({ url: scratch.url, poolSize: 2 });
    largest = (await seedMedia(db, { rows: ROWS, schools: 50, seed: 7 })).schools[0]!;
    // A second client on the same database, recording what the repository runs.
    recorder = planRecorder(scratch.url);
    repo = new MediaRepository(recorder.db);
  }, SEEDING_CEILING_MS);

  afterAll(async () => {
    await recorder?.db.destroy();
    await db?.destroy();
    await scratch?.drop();
  });

  async function plansOf(run: () => Promise<unknown>): Promise<Plan[]> {
    const plans = await recorder.plansOf(db, run);
    expect(plans.length).toBeGreaterThan(0);
    return plans;
  }

  function expectIndexBacked(plans: Plan[]) {
    for (const plan of plans) {
      const nodes = nodesOf(plan);
      const seqScans = nodes.filter((n) => n['Node Type'] === 'Seq Scan' && /^media/.test(n['Relation Name'] ?? ''));
      expect(seqScans, JSON.stringify(plan, null, 1)).toEqual([]);
    }
  }

  const principals = (tenant: string): Record<string, Principal> => ({
    student: { role: 'student', tenant, sub: 's-3', classrooms: ['c-3'] },
    teacher: { role: 'teacher', tenant, sub: 't-2', classrooms: ['c-2', 'c-5'] },
    admin: { role: 'admin', tenant, sub: 'admin-1', classrooms: [] },
    'ai-service': { role: 'service', tenant, sub: 'ai-service', classrooms: [] },
    'attendance-service': { role: 'service', tenant, sub: 'attendance-service', classrooms: [] },
    'user-service': { role: 'service', tenant, sub: 'user-service', classrooms: [] },
  });

  it("lists every role's scope from indexes, first page and deep cursor alike", async () => {
    for (const [who, principal] of Object.entries(principals(largest.tenant))) {
      const scope = readScopeOf(principal);
      const first = await repo.listVisible(scope, {}, 50);
      expect(first.items.length, who).toBeGreaterThan(0);
      expectIndexBacked(await plansOf(() => repo.listVisible(scope, {}, 50)));
      // A cursor far down the list.
      let cursor = first.nextCursor;
      for (let i = 0; i < 3 && cursor; i++) cursor = (await repo.listVisible(scope, {}, 50, cursor)).nextCursor;
      if (cursor) expectIndexBacked(await plansOf(() => repo.listVisible(scope, {}, 50, cursor!)));
    }
  });

  it('serves the rare filters from their own indexes', async () => {
    const { admin, teacher } = principals(largest.tenant);
    const filters: [Principal, { status?: 'rejected'; purpose?: Purpose; subjectId?: string; classroomId?: string }][] = [
      [admin!, { status: 'rejected' }],
      [admin!, { purpose: 'attendance' }],
      [teacher!, { purpose: 'attendance' }],
      [admin!, { subjectId: 's-7' }],
      [admin!, { classroomId: 'c-1' }],
    ];
    for (const [principal, filter] of filters) {
      expectIndexBacked(await plansOf(() => repo.listVisible(readScopeOf(principal), filter, 50)));
    }
  });

  it('finds near duplicates through the phash bands, for an admin and a student', async () => {
    const reference = await db
      .selectFrom('media')
      .select(['id', 'phash'])
      .where('tenant', '=', largest.tenant)
      .where('status', '=', 'ready')
      .where('subjectId', '=', 's-3')
      .limit(1)
      .executeTakeFirstOrThrow();
    const near = { phash: reference.phash!, maxDistance: 6, excludeId: reference.id };
    const { admin, student } = principals(largest.tenant);
    for (const principal of [admin!, student!]) {
      expectIndexBacked(await plansOf(() => repo.listVisible(readScopeOf(principal), { nearPhash: near }, 50)));
    }
    expectIndexBacked(await plansOf(() => repo.findInTenant(largest.tenant, reference.id)));
  });

  it("reads a gallery's batch of 100 ids by primary key, whatever the school's size", async () => {
    const ids = (
      await db.selectFrom('media').select('id').where('tenant', '=', largest.tenant).where('status', '=', 'ready').limit(100).execute()
    ).map((row) => row.id);
    expect(ids).toHaveLength(100);
    expect(await repo.findManyInTenant(largest.tenant, ids)).toHaveLength(100);
    expectIndexBacked(await plansOf(() => repo.findManyInTenant(largest.tenant, ids)));
  });

  it('answers usage and the upload checks from the counters', async () => {
    expectIndexBacked(await plansOf(() => repo.usage(largest.tenant, 'purpose')));
    expectIndexBacked(await plansOf(() => repo.usage(largest.tenant, 'subject')));
    // What media_reserve_uploads reads after its insert (EXPLAIN cannot look inside a function).
    const t = largest.tenant;
    for (const statement of [
      sql`select sum(stored_bytes + reserved_bytes) from media_usage where tenant = ${t} and scope = 'school' and key = ''`,
      sql`select sum(stored_bytes + reserved_bytes) from media_usage where tenant = ${t} and scope = 'uploader' and key = 't-1'`,
      sql`select jsonb_agg(upload_expires_at order by upload_expires_at) filter (where upload_expires_at > now())
          from media where array[tenant, uploaded_by] = array[${t}, 't-1'] and status = 'pending'`,
    ]) {
      expectIndexBacked(await plansOf(() => statement.execute(recorder.db)));
    }
    // And the reservation itself works at this size (refused here, so nothing stays).
    expect(await reserveSampleUpload(repo, t, { schoolQuotaBytes: 0, personQuotaBytes: null, maxPending: 50 })).toMatchObject({
      held: { school: expect.any(Number) },
    });
  });

  it("reads an uploader's own unfinished uploads, however many the school holds, on the reservation's kept plan", async () => {
    const t = largest.tenant;
    // A busy hour: 2,000 unfinished uploads of 100 other people, which the statistics (read when
    // the school held almost none) do not know about.
    await sql`analyze media`.execute(db);
    await sql`insert into media (id, tenant, purpose, status, uploaded_by, content_type, declared_size, upload_expires_at, variants)
              select gen_random_uuid(), ${t}, 'general', 'pending', 'busy-' || (n % 100), 'image/jpeg', 1000, now() + interval '10 minutes', '[]'
              from generate_series(1, 2000) n`.execute(db);
    try {
      // The lookup as media_reserve_uploads runs it: one plan for any uploader (the function keeps it).
      const plan = await db.connection().execute(async (session) => {
        await sql`set plan_cache_mode = force_generic_plan`.execute(session);
        await sql`prepare pending_of(text, text) as
                  select jsonb_agg(upload_expires_at order by upload_expires_at) filter (where upload_expires_at > now())
                  from media where array[tenant, uploaded_by] = array[$1, $2] and status = 'pending'`.execute(session);
        const { rows } = await sql<{
          'QUERY PLAN': [{ Plan: Plan }];
        }>`explain (analyze, format json) execute pending_of(${sql.lit(t)}, 'busy-7')`.execute(session);
        await sql`deallocate pending_of`.execute(session);
        await sql`reset plan_cache_mode`.execute(session);
        return rows[0]!['QUERY PLAN'][0].Plan;
      });
      const scans = nodesOf(plan).filter((n) => n['Relation Name'] === 'media');
      expect(
        scans.map((n) => n['Index Name']),
        JSON.stringify(plan, null, 1),
      ).toEqual(['media_pending_of_uploader']);
      // The uploader's 20 rows, and not one row of the others.
      expect(scans[0]!['Actual Rows']).toBe(20);
      expect(scans[0]!['Rows Removed by Filter'] ?? 0).toBe(0);
    } finally {
      await sql`delete from media where tenant = ${t} and uploaded_by like 'busy-%'`.execute(db);
    }
  });

  it('gives the sweeper and the stack start bounded, index-ordered batches', async () => {
    expectIndexBacked(await plansOf(() => repo.listStalled(900, 100)));
    expectIndexBacked(await plansOf(() => repo.listUnannounced(100)));
    expectIndexBacked(await plansOf(() => repo.listUnpurged(100)));
    expectIndexBacked(await plansOf(() => repo.listUnfinished({ graceSeconds: 900, limit: 500 })));
  });
});
