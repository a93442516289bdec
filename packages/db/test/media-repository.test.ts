import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMediaId, readScopeOf, type Principal } from '@media/core';
import { MediaRepository, recountUsage, type Database, type NewPendingMedia } from '@media/db';
import { testDatabase, uniqueTenant } from '../../../test/support/database';
import { createPending, tenantBytes } from '../../../test/support/media-rows';

let db: Kysely<Database>;
let repo: MediaRepository;

beforeAll(async () => {
  db = await testDatabase();
  repo = new MediaRepository(db);
});
afterAll(() => db?.destroy());

const pending = (tenant: string, over: Partial<NewPendingMedia> = {}): NewPendingMedia => ({
  id: newMediaId(),
  tenant,
  purpose: 'profile',
  subjectIds: ['s-1'],
  classroomId: null,
  uploadedBy: 's-1',
  contentType: 'image/jpeg',
  declaredSize: 1000,
  filename: null,
  uploadExpiresAt: new Date(Date.now() + 600_000),
  ...over,
});

const processed = {
  size: 900,
  width: 10,
  height: 10,
  sha256: 'a'.repeat(64),
  phash: '0'.repeat(16),
  placeholder: null,
  originalKey: 'k',
  variants: [],
};

describe('media state transitions', () => {
  it('lets exactly one of many concurrent claims win', async () => {
    const row = await createPending(db, pending(uniqueTenant()));
    const claims = await Promise.all(Array.from({ length: 10 }, () => repo.claim(row.id, 60)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await repo.findById(row.id))?.status).toBe('processing');
  });

  it('re-claims a processing row only once its lease has run out', async () => {
    const row = await createPending(db, pending(uniqueTenant()));
    expect(await repo.claim(row.id, 60)).toBeTruthy();
    expect(await repo.claim(row.id, 60)).toBeUndefined();
    await db
      .updateTable('media')
      .set({ leaseExpiresAt: new Date(Date.now() - 1000) })
      .where('id', '=', row.id)
      .execute();
    expect((await repo.claim(row.id, 60))?.attempts).toBe(2);
  });

  it('marks ready only from processing, and never twice', async () => {
    const row = await createPending(db, pending(uniqueTenant()));
    expect(await repo.markReady(row.id, processed)).toBeUndefined();
    await repo.claim(row.id, 60);
    expect((await repo.markReady(row.id, processed))?.status).toBe('ready');
    expect(await repo.markReady(row.id, processed)).toBeUndefined();
    expect(await repo.markRejected(row.id, 'CORRUPT_IMAGE', 'x')).toBeUndefined();
  });

  it('keeps a tombstone on delete, and a legal hold blocks it', async () => {
    const tenant = uniqueTenant();
    const held = await createPending(db, pending(tenant));
    await repo.setLegalHold(tenant, held.id, true);
    expect(await repo.markDeleted(tenant, held.id, 'admin-1')).toBeUndefined();

    const row = await createPending(db, pending(tenant));
    expect(await repo.markDeleted('another-school', row.id, 'x')).toBeUndefined();
    const deleted = await repo.markDeleted(tenant, row.id, 'admin-1');
    expect(deleted).toMatchObject({ status: 'deleted', deletedBy: 'admin-1' });
    expect(deleted?.deletedAt).toBeInstanceOf(Date);
    expect(await repo.findInTenant(tenant, row.id)).toBeUndefined();
    expect(await repo.findById(row.id)).toBeTruthy();
  });

  it('expires a pending upload past its expiry plus grace, once, and not one whose POST may still come', async () => {
    const tenant = uniqueTenant();
    const stale = await createPending(db, pending(tenant, { uploadExpiresAt: new Date(Date.now() - 3_600_000) }));
    const fresh = await createPending(db, pending(tenant));
    expect((await repo.expirePending(stale.id, 60))?.status).toBe('expired');
    expect(await repo.expirePending(stale.id, 60), 'a second sweeper finds nothing to do').toBeUndefined();
    expect(await repo.expirePending(fresh.id, 60)).toBeUndefined();
    expect((await repo.findById(fresh.id))?.status).toBe('pending');
  });
});

describe('listing', () => {
  it('pages newest first with a cursor, within what the caller may read', async () => {
    const tenant = uniqueTenant();
    const student: Principal = { role: 'student', sub: 's-1', tenant, classrooms: [] };
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push(await createPending(db, pending(tenant)));
    await createPending(db, pending(tenant, { subjectIds: ['s-2'], uploadedBy: 's-2' }));
    await createPending(db, pending(uniqueTenant()));

    const scope = readScopeOf(student);
    const first = await repo.listVisible(scope, {}, 2);
    const second = await repo.listVisible(scope, {}, 2, first.nextCursor!);
    const third = await repo.listVisible(scope, {}, 2, second.nextCursor!);
    const ids = [...first.items, ...second.items, ...third.items].map((r) => r.id);
    expect(ids).toEqual(mine.map((r) => r.id).reverse());
    expect(third.nextCursor).toBeNull();
  });

  it('counts usage per purpose for one tenant only', async () => {
    const tenant = uniqueTenant();
    await createPending(db, pending(tenant, { declaredSize: 100 }));
    await createPending(db, pending(tenant, { declaredSize: 50, purpose: 'general' }));
    await createPending(db, pending(uniqueTenant(), { declaredSize: 7 }));
    expect(await repo.usage(tenant, 'purpose')).toEqual([
      { key: 'general', count: 1, bytes: 50 },
      { key: 'profile', count: 1, bytes: 100 },
    ]);
    expect(await tenantBytes(db, tenant)).toBe(150);
  });
});

describe('usage answers kept between requests', () => {
  const subjects = async (tenant: string) => (await repo.usage(tenant, 'subject')).map(({ key, count }) => [key, count]);

  it('serves a kept answer only while none of the school’s counters has changed', async () => {
    const tenant = uniqueTenant();
    const first = await createPending(db, pending(tenant, { subjectIds: ['s-1', 's-2'] }));
    await createPending(db, pending(tenant, { subjectIds: ['s-3'] }));
    const answer = await repo.usage(tenant, 'subject');
    expect(await repo.usage(tenant, 'subject')).toBe(answer);

    // Another school's change leaves this school's answer as it was.
    await createPending(db, pending(uniqueTenant()));
    expect(await repo.usage(tenant, 'subject')).toBe(answer);

    // The item's counted subject changes and the school's total does not (an erasure untags it).
    await db
      .updateTable('media')
      .set({ subjectIds: ['s-2'] })
      .where('id', '=', first.id)
      .execute();
    expect(await subjects(tenant)).toEqual([
      ['s-2', 1],
      ['s-3', 1],
    ]);

    // A new upload, then a deletion, each from another connection than the one that read.
    await createPending(db, pending(tenant, { subjectIds: ['s-4'] }));
    expect(await subjects(tenant)).toEqual([
      ['s-2', 1],
      ['s-3', 1],
      ['s-4', 1],
    ]);
    await db.updateTable('media').set({ status: 'deleted' }).where('id', '=', first.id).execute();
    expect(await subjects(tenant)).toEqual([
      ['s-3', 1],
      ['s-4', 1],
    ]);
  });

  it('does not serve an answer from before a repair of the counters', async () => {
    const tenant = uniqueTenant();
    await createPending(db, pending(tenant, { subjectIds: ['s-1'] }));
    // A counter gone wrong behind the trigger's back, as a repair finds them, and read so.
    await db.updateTable('mediaUsage').set({ count: 5 }).where('tenant', '=', tenant).where('scope', '=', 'subject').execute();
    expect(await subjects(tenant)).toEqual([['s-1', 5]]);
    // The repair rewrites the rows and moves the school's version: the wrong answer is not served again.
    await recountUsage(db, { fix: true, tenant });
    expect(await subjects(tenant)).toEqual([['s-1', 1]]);
  });
});
