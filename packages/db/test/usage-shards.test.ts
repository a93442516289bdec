import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newMediaId } from '@media/core';
import { createDatabase, MediaRepository, recountUsage, USAGE_SHARDS, type Database, type NewPendingMedia } from '@media/db';
import { uniqueTenant } from '../../../test/support/database';
import { tenantBytes } from '../../../test/support/media-rows';

/** The shard `media_usage_shard` gives an id: its last byte, modulo the shard count. */
const shardOf = (id: string) => parseInt(id.slice(-2), 16) % USAGE_SHARDS;

/** A fresh media id that falls in `shard`. */
function idInShard(shard: number): string {
  for (;;) {
    const id = newMediaId();
    if (shardOf(id) === shard) return id;
  }
}

const pending = (tenant: string, uploadedBy: string, over: Partial<NewPendingMedia> = {}): NewPendingMedia => ({
  id: newMediaId(),
  tenant,
  purpose: 'general',
  subjectIds: [],
  classroomId: null,
  uploadedBy,
  contentType: 'image/jpeg',
  declaredSize: 1000,
  filename: null,
  uploadExpiresAt: new Date(Date.now() + 600_000),
  ...over,
});

const noLimits = { schoolQuotaBytes: 1e15, personQuotaBytes: null, maxPending: 50 };

/** Runs `work` in a transaction that stays open (its counter shards held) until `commit`. */
async function openReservation(db: Kysely<Database>, work: (repo: MediaRepository) => Promise<unknown>) {
  let commit!: () => void;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  let done!: (value: unknown) => void;
  const worked = new Promise<unknown>((resolve) => (done = resolve));
  const transaction = db.transaction().execute(async (trx) => {
    done(await work(new MediaRepository(trx)));
    await committed;
  });
  const outcome = await worked;
  return { outcome, commit: async () => (commit(), await transaction) };
}

// Lock waits need two connections to one server: PostgreSQL, not the single-connection PGlite.
describe.runIf(inject('databaseUrl'))("a school's counters in shards", () => {
  let db: Kysely<Database>;
  let impatient: Kysely<Database>;
  beforeAll(async () => {
    const url = inject('databaseUrl');
    db = await createDatabase({ url, poolSize: 4 });
    // Waits for a held shard end at once (55P03) instead of hanging the test.
    impatient = await createDatabase({ url, poolSize: 2, lockTimeoutMs: 500 });
  });
  afterAll(async () => {
    await impatient?.destroy();
    await db?.destroy();
  });

  it("lets a school's uploads in other shards go on while one shard is held, and makes the same shard wait", async () => {
    const tenant = uniqueTenant();
    const held = await openReservation(db, (repo) => repo.reserveUploads([pending(tenant, 't-1', { id: idInShard(3) })], noLimits));
    try {
      const elsewhere = new MediaRepository(impatient);
      expect(await elsewhere.reserveUploads([pending(tenant, 't-2', { id: idInShard(4) })], noLimits)).toBeNull();
      await expect(elsewhere.reserveUploads([pending(tenant, 't-3', { id: idInShard(3) })], noLimits)).rejects.toMatchObject({
        code: '55P03',
      });
    } finally {
      await held.commit();
    }
    expect(await tenantBytes(db, tenant)).toBe(2000);
  });

  it('holds the quota against every committed reservation, and overruns it by at most what other shards have in flight', async () => {
    const tenant = uniqueTenant();
    const repo = new MediaRepository(db);
    const quota = { schoolQuotaBytes: 10_000, personQuotaBytes: null, maxPending: 50 };
    // In flight in shard 1 and unseen by shard 2's check: both fit on their own, so both are accepted.
    const first = await openReservation(db, (inFlight) =>
      inFlight.reserveUploads([pending(tenant, 't-1', { id: idInShard(1), declaredSize: 6000 })], quota),
    );
    expect(first.outcome).toBeNull();
    expect(await repo.reserveUploads([pending(tenant, 't-2', { id: idInShard(2), declaredSize: 6000 })], quota)).toBeNull();
    await first.commit();
    expect(await tenantBytes(db, tenant)).toBe(12_000);
    // Once committed, every shard counts: nothing more fits, in any shard.
    for (const shard of [1, 2, 5]) {
      expect(await repo.reserveUploads([pending(tenant, 't-3', { id: idInShard(shard), declaredSize: 1 })], quota)).toMatchObject({
        held: { school: 12_001 },
      });
    }
  });

  it("spreads a school's figures over its shards and keeps their sums equal to the rows through every change", async () => {
    const tenant = uniqueTenant();
    const repo = new MediaRepository(db);
    const items = Array.from({ length: 40 }, (_, i) =>
      pending(tenant, `t-${i % 4}`, { declaredSize: 1000 + i, subjectIds: i % 2 ? [`s-${i % 5}`] : [] }),
    );
    for (const item of items) expect(await repo.reserveUploads([item], noLimits)).toBeNull();
    const shards = await db
      .selectFrom('mediaUsage')
      .select('shard')
      .distinct()
      .where('tenant', '=', tenant)
      .where('scope', '=', 'school')
      .execute();
    expect(shards.length).toBeGreaterThan(1);

    // Processed, deleted and expired rows leave their shards as they entered them.
    await db
      .updateTable('media')
      .set({ status: 'ready', size: 500 })
      .where(
        'id',
        'in',
        items.slice(0, 10).map((i) => i.id),
      )
      .execute();
    await db
      .updateTable('media')
      .set({ status: 'deleted' })
      .where(
        'id',
        'in',
        items.slice(10, 20).map((i) => i.id),
      )
      .execute();
    await db.updateTable('media').set({ status: 'expired' }).where('id', '=', items[20]!.id).execute();
    expect(await recountUsage(db, { tenant })).toMatchObject({ differences: [] });
    expect(await tenantBytes(db, tenant)).toBe(10 * 500 + items.slice(21).reduce((sum, item) => sum + item.declaredSize, 0));
    const purposes = await repo.usage(tenant, 'purpose');
    expect(purposes).toEqual([{ key: 'general', count: 29, bytes: await tenantBytes(db, tenant) }]);
    const subjects = await repo.usage(tenant, 'subject');
    expect(subjects.reduce((sum, s) => sum + s.count, 0)).toBe(29);
    expect(subjects.filter((s) => s.key === '')).toHaveLength(1);
  });

  it('repairs a figure whose shards disagree with the rows as one row, and counts on from there', async () => {
    const tenant = uniqueTenant();
    const repo = new MediaRepository(db);
    const items = Array.from({ length: 20 }, () => pending(tenant, 't-1'));
    for (const item of items) await repo.reserveUploads([item], noLimits);
    await sql`update media_usage set reserved_bytes = reserved_bytes + 7 where tenant = ${tenant} and scope = 'school'`.execute(db);
    const broken = await recountUsage(db, { tenant, fix: true });
    expect(broken.differences.map((d) => [d.scope, d.key])).toEqual([['school', '']]);
    expect(await recountUsage(db, { tenant })).toMatchObject({ differences: [] });
    // A row counted into the repaired figure leaves it from its own shard: the sum stays right.
    await db.updateTable('media').set({ status: 'deleted' }).where('id', '=', items[0]!.id).execute();
    expect(await recountUsage(db, { tenant })).toMatchObject({ differences: [] });
    expect(await tenantBytes(db, tenant)).toBe(19_000);
  });
});
