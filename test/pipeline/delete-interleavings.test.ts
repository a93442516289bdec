import './support/quiet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@media/core';
import { deleteMedia, type Dependencies } from '@media/service';
import { sweep } from '@media/service/processing';
import { handler as processUpload } from '../../functions/process-upload/handler';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { inParallel } from '../support/in-parallel';
import { startTestStack, type TestStack } from '../support/test-stack';
import { deliver, deliverUntilAcknowledged, s3Record } from './support/deliveries';
import { noFaults, transientError, withFaults, type FaultPlan } from './support/fault-injection';
import { isolatedDatabase } from './support/isolated-database';
import { objectsOf, upload } from './support/uploads';

/**
 * Delete is final under every interleaving: a DELETE may land before or after any call a worker
 * makes; the worker may then go on, fail at that call, or die there (nothing of it reaches S3 or
 * the database any more), or go on writing the original and die right after. Whatever happened,
 * once the record has been redelivered and one sweeper run has passed, the bucket holds nothing of
 * the item. The sweeper looks at every row, so this file has a database of its own.
 */
type Mode = 'goes on' | 'fails there' | 'dies there' | 'writes the original, then dies';
interface Point {
  label: string;
  phase: 'before' | 'after';
}

describe('a DELETE at any point of processing', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let stack: TestStack;
  let photo: Buffer;
  let points: Point[] = [];
  const leaseSeconds = 1;

  const workerDeps = (plan: FaultPlan) => {
    const config = { ...stack.deps.config, processing: { ...stack.deps.config.processing, leaseSeconds } };
    return withFaults<Dependencies>({ ...stack.deps, config }, plan);
  };
  const newUpload = async () => {
    const tenant = uniqueTenant();
    const principal: Principal = { role: 'student', tenant, sub: 's-1', classrooms: [] };
    return { tenant, principal, ...(await upload(stack, await stack.token(principal), photo)) };
  };

  /** The worker's plan: DELETE at `point`, then the worker does as `mode` says. */
  const interleaving = (
    point: Point,
    mode: Mode,
    remove: () => Promise<unknown>,
  ): FaultPlan & { fired: () => boolean; lastWriteAt: () => number } => {
    let deleted = false;
    let dead = false;
    let lastWriteAt = 0;
    const plan: FaultPlan = async (call, phase) => {
      if (dead) return transientError(call);
      // When the worker last made an object (put, putFile, putStream, copy).
      if (/^storage\.(put|copy)/.test(call.label) && phase === 'after') lastWriteAt = Date.now();
      if (!deleted && call.label === point.label && phase === point.phase) {
        deleted = true;
        await remove();
        if (mode === 'fails there') return transientError(call);
        if (mode === 'dies there') {
          dead = true;
          return transientError(call);
        }
      }
      if (deleted && mode === 'writes the original, then dies' && call.label === 'storage.put original' && phase === 'after') {
        dead = true;
        return transientError(call);
      }
      return undefined;
    };
    return Object.assign(plan, { fired: () => deleted, lastWriteAt: () => lastWriteAt });
  };

  /**
   * One sweeper run at a time, each to its end: runs of other interleavings go on meanwhile (as
   * workers do while the sweeper runs), but an item's own check follows a whole sweep.
   */
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweepAlone = () => {
    const run = sweeping.then(() => sweep(stack.deps));
    sweeping = run.catch(() => undefined);
    return run;
  };

  /** Runs one interleaving and answers what the bucket holds of the item afterwards. */
  const run = async (point: Point, mode: Mode, { redeliver = true } = {}) => {
    // On a loaded machine a worker can be overtaken before it reaches the point: its 1 s lease
    // lapses and another case's sweep announces its item. Or it outlives its lease and writes
    // after the purge was recorded, which a deployed worker cannot: Lambda stops it at its
    // timeout, and its lease is 2.5 times that (the purge is recorded once the lease is over, and
    // trusts that). Either way the interleaving under test never happened, so the case is tried
    // again with a new upload, a few times, until it does.
    let item = await newUpload();
    let record = s3Record(stack.bucket, item.key);
    for (let attempt = 1; ; attempt++) {
      const upload = item;
      const plan = interleaving(point, mode, () => deleteMedia(stack.deps, upload.principal, upload.mediaId));
      await deliver(processUpload.withDependencies(workerDeps(plan)), [record]);
      // The purge is recorded once the lease is over (by the DELETE itself, or by a sweep of
      // another case): a write after that came from a worker that outlived its lease.
      const purgedAt = (await stack.deps.media.findById(upload.mediaId))?.purgedAt;
      const outlivedLease = purgedAt != null && plan.lastWriteAt() > purgedAt.getTime();
      if (plan.fired() && !outlivedLease) break;
      expect(
        attempt,
        `${mode} at ${point.phase} ${point.label}: ${plan.fired() ? 'the worker wrote after the purge was recorded' : 'the worker never reached the point'}`,
      ).toBeLessThan(5);
      item = await newUpload();
      record = s3Record(stack.bucket, item.key);
    }
    if (redeliver)
      await deliverUntilAcknowledged(() => processUpload.withDependencies(workerDeps(noFaults)), record, { backoffMs: () => 100 });
    await sweepAlone();
    const row = (await stack.deps.media.findById(item.mediaId))!;
    return { ...item, row, objects: await objectsOf(stack, item.tenant, item.mediaId) };
  };

  beforeAll(async () => {
    database = await isolatedDatabase();
    stack = await startTestStack({ databaseUrl: database.url });
    // Deliveries are made by the test.
    await stack.pump.stop();
    photo = await makePhoto({ width: 320, height: 240 });

    // The calls of a clean run, in order: each is a moment a DELETE can land, before or after it.
    const clean = await newUpload();
    const deps = workerDeps(noFaults);
    expect(await deliver(processUpload.withDependencies(deps), [s3Record(stack.bucket, clean.key)])).toEqual([]);
    expect((await stack.deps.media.findById(clean.mediaId))?.status).toBe('ready');
    const labels = [...new Set(deps.trace.map((c) => c.label))];
    points = labels.flatMap((label) => (['before', 'after'] as const).map((phase) => ({ label, phase })));
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await database?.drop();
  });

  it("covers every call of a clean run, the original's write among them", () => {
    expect(points.map((p) => `${p.phase} ${p.label}`)).toEqual(
      expect.arrayContaining(['before storage.put original', 'after media.claim', 'before media.markReady']),
    );
  });

  it('leaves nothing when the DELETE lands while the original is written and the worker then fails (the redelivery meets a deleted row)', async () => {
    const { objects, row } = await run({ label: 'storage.put original', phase: 'before' }, 'writes the original, then dies');
    expect(row.status).toBe('deleted');
    expect(objects).toEqual([]);
  });

  it('leaves nothing in that case even when no redelivery ever comes: one sweeper run is enough', async () => {
    const { objects } = await run({ label: 'storage.put original', phase: 'before' }, 'writes the original, then dies', {
      redeliver: false,
    });
    expect(objects).toEqual([]);
  });

  it("records the purge only once the worker's lease is over, and purges until then", async () => {
    const { row, mediaId, tenant } = await run({ label: 'storage.put original', phase: 'before' }, 'writes the original, then dies', {
      redeliver: false,
    });
    expect(row.purgeAfter).toBeInstanceOf(Date);
    if (row.purgedAt === null) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, row.purgeAfter!.getTime() - Date.now()) + 200));
      await sweep(stack.deps);
    }
    const purged = (await stack.deps.media.findById(mediaId))!;
    expect(purged.purgedAt).toBeInstanceOf(Date);
    expect(purged.purgedAt!.getTime()).toBeGreaterThanOrEqual(row.purgeAfter!.getTime());
    expect(await objectsOf(stack, tenant, mediaId)).toEqual([]);
  });

  it('leaves nothing in the bucket whatever the moment and whatever the worker does next', async () => {
    const originalAt = points.findIndex((p) => p.label === 'storage.put original' && p.phase === 'after');
    const cases = points.flatMap((point, index) =>
      (
        ['goes on', 'fails there', 'dies there', ...(index < originalAt ? (['writes the original, then dies'] as const) : [])] as Mode[]
      ).map((mode) => ({ point, mode })),
    );
    // Each case is an upload of its own: three at a time, since most of a case is a lease running out.
    // (Six made a worker's 1 s lease lapse on a loaded machine before it announced, and another
    // case's sweep announced the item first: a fault point that never came.)
    const outcomes = await inParallel(cases, 3, async ({ point, mode }) => {
      const { objects, row } = await run(point, mode);
      return objects.length > 0 || row.status !== 'deleted'
        ? `${mode} at ${point.phase} ${point.label}: ${row.status}, ${objects.join(', ')}`
        : undefined;
    });
    expect(outcomes.filter(Boolean)).toEqual([]);
    expect(cases.length).toBeGreaterThan(40);
  }, 600_000);
});
