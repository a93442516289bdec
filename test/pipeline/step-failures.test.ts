import './support/quiet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaEvent } from '@media/core';
import type { Dependencies } from '@media/service';
import { handler as processUpload } from '@media/functions/process-upload';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { inParallel } from '../support/in-parallel';
import { startTestStack, type TestStack } from '../support/test-stack';
import { deliver, deliverUntilAcknowledged, s3Record } from './support/deliveries';
import { QueueLog } from './support/event-log';
import { failOnce, failTimes, noFaults, withFaults, type Call, type FaultPlan } from './support/fault-injection';
import { objectsOf, outcomeOf, upload, variantKeys } from './support/uploads';

/**
 * A worker can fail between any two of its steps. Whatever the step, the next delivery of the same
 * record must end exactly where a clean run ends: same row, same objects, one event.
 */
describe('a failure at each step of processing, then redelivery', () => {
  let stack: TestStack;
  let events: QueueLog;
  let photo: Buffer;
  let reference: { outcome: ReturnType<typeof outcomeOf>; event: ReturnType<typeof comparable>; calls: string[] };
  // Short leases, so a worker that vanished holding one is replaced within a few receives.
  const leaseSeconds = 2;
  const backoffMs = (receive: number) => 1000 * 2 ** (receive - 1);

  const depsWith = (plan: FaultPlan) => {
    const config = { ...stack.deps.config, processing: { ...stack.deps.config.processing, leaseSeconds } };
    return withFaults<Dependencies>({ ...stack.deps, config }, plan);
  };
  const comparable = ({ eventId: _id, mediaId: _m, tenant: _t, occurredAt: _o, ...rest }: MediaEvent) =>
    rest.type === 'media.ready' ? { ...rest, variants: rest.variants.map(({ key: _k, ...v }) => v) } : rest;

  const newUpload = async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    return { tenant, ...(await upload(stack, token, photo)) };
  };

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.pump.stop();
    events = new QueueLog(stack.sqs, stack.queues.events);
    photo = await makePhoto({ width: 1000, height: 750, orientation: 6 });

    const clean = await newUpload();
    const deps = depsWith(noFaults);
    expect(await deliver(processUpload.withDependencies(deps), [s3Record(stack.bucket, clean.key)])).toEqual([]);
    const row = (await stack.deps.media.findById(clean.mediaId))!;
    const [event] = await events.eventsFor(clean.mediaId);
    reference = { outcome: outcomeOf(row), event: comparable(event!), calls: [...new Set(deps.trace.map((c) => c.label))] };
    expect(reference.outcome).toMatchObject({ status: 'ready', announced: true });
  });
  afterAll(() => stack?.close());

  /** Fails the first delivery as planned, redelivers cleanly, and checks the end state against the clean run. */
  const failThenRedeliver = async (plan: FaultPlan & { fired: () => boolean }) => {
    const { tenant, mediaId, key } = await newUpload();
    const record = s3Record(stack.bucket, key);
    // Usually the record fails; a failure the worker can wait out (recording a sent event) does not.
    await deliver(processUpload.withDependencies(depsWith(plan)), [record]);
    expect(plan.fired()).toBe(true);

    const receives = await deliverUntilAcknowledged(() => processUpload.withDependencies(depsWith(noFaults)), record, { backoffMs });
    const row = (await stack.deps.media.findById(mediaId))!;
    const sent = await events.eventsFor(mediaId);
    return { row, receives, sent, objects: await objectsOf(stack, tenant, mediaId) };
  };

  const named: [string, (c: Call) => boolean, 'before' | 'after'][] = [
    ['after the claim committed but its answer was lost', (c) => c.label === 'media.claim', 'after'],
    ['after reading the object', (c) => c.label === 'storage.getBytes incoming', 'after'],
    ['after writing the thumb derivative', (c) => c.label === 'storage.put thumb.webp', 'after'],
    ['after writing the small derivative', (c) => c.label === 'storage.put small.webp', 'after'],
    ['after writing the medium derivative', (c) => c.label === 'storage.put medium.webp', 'after'],
    ['after writing the ml derivative', (c) => c.label === 'storage.put ml.jpeg', 'after'],
    ['after storing the original', (c) => c.label === 'storage.put original', 'after'],
    ['before the row update', (c) => c.label === 'media.markReady', 'before'],
    ['after the row update committed but its answer was lost', (c) => c.label === 'media.markReady', 'after'],
    ['before the incoming object is removed', (c) => c.label === 'storage.deleteMany incoming', 'before'],
    ['before the event', (c) => c.label === 'events.publish', 'before'],
    ['when recording the sent event fails once', (c) => c.label === 'media.markAnnounced', 'before'],
    ['after the event was recorded as sent', (c) => c.label === 'media.markAnnounced', 'after'],
  ];

  /** The one window that sends twice: the event is out, and the worker cannot record it. */
  const sendsTwice: [string, FaultPlan & { fired: () => boolean }, string, 'before' | 'after'][] = [
    [
      'after SQS accepted the event but its answer was lost',
      failOnce((c) => c.label === 'events.publish', 'after'),
      'events.publish',
      'after',
    ],
    [
      'when the database stays away for every try at recording the sent event',
      failTimes(3, (c) => c.label === 'media.markAnnounced', 'before'),
      'media.markAnnounced',
      'before',
    ],
  ];

  it.each(named)('%s: ends as a clean run, with no orphan object and one event', async (_step, matches, phase) => {
    const { row, sent, objects, receives } = await failThenRedeliver(failOnce(matches, phase));
    expect(outcomeOf(row)).toEqual(reference.outcome);
    expect(objects).toEqual(variantKeys(row));
    expect(sent).toHaveLength(1);
    expect(comparable(sent[0]!)).toEqual(reference.event);
    expect(sent[0]!.eventId).toBe(`media.ready:${row.id}`);
    expect(receives).toBeLessThanOrEqual(4);
  });

  it('ends as a clean run whichever call of a clean run fails, before or after it', async () => {
    const covered = new Set(
      named.flatMap(([, matches, phase]) =>
        reference.calls.filter((label) => matches({ label, mediaId: undefined })).map((l) => `${phase} ${l}`),
      ),
    );
    const remaining = reference.calls
      .flatMap((label) => (['before', 'after'] as const).map((phase) => ({ label, phase })))
      // Between sending the event and recording it is the one window that sends twice: see below.
      .filter(({ label, phase }) => !covered.has(`${phase} ${label}`) && !sendsTwice.some(([, , l, p]) => l === label && p === phase));
    expect(remaining.length).toBeGreaterThan(5);
    // Each case is an upload of its own, with its own faulty worker: three at a time, since much of a
    // case is a lease or a redelivery's backoff running out.
    const outcomes = await inParallel(remaining, 3, async ({ label, phase }) => {
      const { row, sent, objects } = await failThenRedeliver(failOnce((c) => c.label === label, phase));
      return {
        step: `${phase} ${label}`,
        outcome: outcomeOf(row),
        orphans: objects.filter((k) => !variantKeys(row).includes(k)),
        events: sent.length,
      };
    });
    expect(outcomes).toEqual(
      remaining.map(({ label, phase }) => ({ step: `${phase} ${label}`, outcome: reference.outcome, orphans: [], events: 1 })),
    );
  });

  it.each(sendsTwice)('sends the event a second time, with the same eventId, when a worker fails %s', async (_when, plan) => {
    const { sent, row } = await failThenRedeliver(plan);
    expect(outcomeOf(row)).toEqual(reference.outcome);
    expect(sent.map((e) => e.eventId)).toEqual([`media.ready:${row.id}`, `media.ready:${row.id}`]);
    expect(sent[1]).toEqual(sent[0]);
  });

  it('fails only the record that met a transient failure, and acknowledges the rest of its batch', async () => {
    const items = [await newUpload(), await newUpload(), await newUpload()];
    const unlucky = items[1]!;
    const records = items.map((item) => s3Record(stack.bucket, item.key));
    const s3Throttles = failOnce((c) => c.label === 'storage.getBytes incoming' && c.mediaId === unlucky.mediaId, 'before');

    expect(await deliver(processUpload.withDependencies(depsWith(s3Throttles)), records)).toEqual([records[1]!.messageId]);
    const rows = await Promise.all(items.map((item) => stack.deps.media.findById(item.mediaId)));
    expect(rows.map((r) => r?.status)).toEqual(['ready', 'pending', 'ready']);
    // The failed one is claimable at once: its worker handed the lease back.
    expect(rows[1]).toMatchObject({ leaseExpiresAt: null, leaseOwner: null });
  });

  it('acknowledges bad bytes on the first receive: rejected once, one media.rejected event, never retried', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
    const { mediaId, key } = await upload(stack, token, garbage);
    const deps = depsWith(noFaults);

    expect(await deliver(processUpload.withDependencies(deps), [s3Record(stack.bucket, key)])).toEqual([]);
    expect(await deliver(processUpload.withDependencies(deps), [s3Record(stack.bucket, key)])).toEqual([]);

    const row = (await stack.deps.media.findById(mediaId))!;
    expect(row).toMatchObject({ status: 'rejected', attempts: 1, leaseExpiresAt: null });
    expect(await objectsOf(stack, tenant, mediaId)).toEqual([]);
    expect((await events.eventsFor(mediaId)).map((e) => e.type)).toEqual(['media.rejected']);
  });

  it('a failure before the media.rejected event: redelivery sends it once, and nothing is retried beyond that', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const png = await makePhoto({ width: 300, height: 200, format: 'png' });
    const { mediaId, key } = await upload(stack, token, png, { contentType: 'image/jpeg' });
    const record = s3Record(stack.bucket, key);

    expect(
      await deliver(processUpload.withDependencies(depsWith(failOnce((c) => c.label === 'events.publish', 'before'))), [record]),
    ).toEqual([record.messageId]);
    expect(await deliverUntilAcknowledged(() => processUpload.withDependencies(depsWith(noFaults)), record, { backoffMs })).toBe(1);

    expect(await stack.deps.media.findById(mediaId)).toMatchObject({ status: 'rejected', rejectionCode: 'TYPE_MISMATCH', attempts: 1 });
    expect(await objectsOf(stack, tenant, mediaId)).toEqual([]);
    expect((await events.eventsFor(mediaId)).map((e) => e.eventId)).toEqual([`media.rejected:${mediaId}`]);
  });
});
