import './support/quiet';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newMediaId } from '@media/core';
import { incomingKey, originalKey } from '@media/storage';
import { handler as processUpload } from '@media/functions/process-upload';
import { logger, metrics } from '@media/functions/observability';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { deliver, deliverUntilAcknowledged, s3Record, type BatchHandler } from './support/deliveries';
import { QueueLog } from './support/event-log';
import { objectsOf, upload, variantKeys } from './support/uploads';

/** S3 delivers at least once, sometimes many times at once; the result must not depend on it. */
describe('duplicate and concurrent deliveries', () => {
  let stack: TestStack;
  let events: QueueLog;
  let handler: BatchHandler;
  let photo: Buffer;

  beforeAll(async () => {
    stack = await startTestStack();
    // Deliveries are made by the test, so it decides how many and when.
    await stack.pump.stop();
    events = new QueueLog(stack.sqs, stack.queues.events);
    handler = processUpload.withDependencies(stack.deps);
    photo = await makePhoto({ width: 1200, height: 900 });
  });
  afterAll(() => stack?.close());

  it('turns 20 concurrent deliveries of one record into one ready row, one set of objects and one media.ready event', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const { mediaId, key } = await upload(stack, token, photo);

    const records = Array.from({ length: 20 }, () => s3Record(stack.bucket, key));
    const failed = (await Promise.all(records.map((record) => deliver(handler, [record])))).flat();
    // Those that found it claimed come back later, as SQS redelivers them, and are then acknowledged.
    const backoffMs = (receive: number) => 1000 * 2 ** (receive - 1);
    await Promise.all(
      records.filter((r) => failed.includes(r.messageId)).map((r) => deliverUntilAcknowledged(() => handler, r, { backoffMs })),
    );

    const row = await stack.deps.media.findById(mediaId);
    expect(row).toMatchObject({ status: 'ready', attempts: 1, leaseExpiresAt: null });
    expect(row!.eventPublishedAt).toBeInstanceOf(Date);
    expect(await objectsOf(stack, tenant, mediaId)).toEqual(variantKeys(row!));
    const sent = await events.eventsFor(mediaId);
    expect(sent.map((e) => [e.type, e.eventId])).toEqual([['media.ready', `media.ready:${mediaId}`]]);
  });

  it('acknowledges a record for an item already processed without a second event, and removes a re-upload to its key', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const { mediaId, key } = await upload(stack, token, photo);
    await deliverUntilAcknowledged(() => handler, s3Record(stack.bucket, key));
    const before = await stack.deps.media.findById(mediaId);

    // The presigned POST is still valid: someone posts again to the same key after processing.
    await stack.deps.storage.put(key, photo, 'image/jpeg');
    expect(await deliver(handler, [s3Record(stack.bucket, key)])).toEqual([]);

    expect(await stack.deps.media.findById(mediaId)).toEqual(before);
    expect(await objectsOf(stack, tenant, mediaId)).toEqual(variantKeys(before!));
    expect(await events.eventsFor(mediaId)).toHaveLength(1);
  });
});

describe('messages that are not uploads of ours', () => {
  let stack: TestStack;
  let events: QueueLog;
  let handler: BatchHandler;
  let photo: Buffer;
  const logged: unknown[][] = [];
  const counted: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.pump.stop();
    events = new QueueLog(stack.sqs, stack.queues.events);
    handler = processUpload.withDependencies(stack.deps);
    photo = await makePhoto({ width: 400, height: 300 });
  });
  afterAll(() => stack?.close());
  afterEach(() => {
    vi.restoreAllMocks();
    logged.length = 0;
    counted.length = 0;
  });

  const watchObservability = () => {
    for (const level of ['info', 'warn', 'error'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => void logged.push(args));
    }
    const addMetric = metrics.addMetric.bind(metrics);
    vi.spyOn(metrics, 'addMetric').mockImplementation((name, ...rest) => {
      counted.push(name);
      return addMetric(name, ...rest);
    });
  };

  /** A tenant with one pending upload whose object arrived, and what it looks like before the message. */
  const pendingUpload = async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const { mediaId, key } = await upload(stack, token, photo);
    const row = await stack.deps.media.findById(mediaId);
    return { tenant, mediaId, key, row, objects: await objectsOf(stack, tenant, mediaId) };
  };

  const s3Body = (eventName: string, bucket: string, key: string) =>
    JSON.stringify({
      Records: [{ eventName, s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1 } } }],
    });

  const cases: [string, string, (u: Awaited<ReturnType<typeof pendingUpload>>, bucket: string) => Promise<string>][] = [
    [
      'an unknown key',
      'unknown-media',
      async (u, bucket) => {
        const stray = incomingKey(u.tenant, newMediaId());
        await stack.deps.storage.put(stray, photo, 'image/jpeg');
        return s3Body('ObjectCreated:Put', bucket, stray);
      },
    ],
    [
      'a key outside incoming/',
      'not-an-incoming-key',
      async (u, bucket) => s3Body('ObjectCreated:Put', bucket, originalKey(u.tenant, u.mediaId)),
    ],
    [
      "a key whose tenant is not its row's",
      'tenant-mismatch',
      async (u, bucket) => {
        const other = incomingKey(uniqueTenant('intruder'), u.mediaId);
        await stack.deps.storage.put(other, photo, 'image/jpeg');
        return s3Body('ObjectCreated:Put', bucket, other);
      },
    ],
    [
      'an s3:TestEvent',
      'test-event',
      async (_u, bucket) =>
        JSON.stringify({
          Service: 'Amazon S3',
          Event: 's3:TestEvent',
          Time: new Date().toISOString(),
          Bucket: bucket,
          RequestId: 'r',
          HostId: 'h',
        }),
    ],
    ['an event that is not ObjectCreated', 'not-object-created', async (u, bucket) => s3Body('ObjectRemoved:Delete', bucket, u.key)],
    ['a malformed body', 'malformed-body', async () => '{"Records": [ {"eventName": '],
    ['a body that is no S3 notification', 'not-an-s3-notification', async () => JSON.stringify({ hello: 'world' })],
    ['another bucket', 'foreign-bucket', async (u) => s3Body('ObjectCreated:Put', 'someone-elses-bucket', u.key)],
  ];

  it.each(cases)('acknowledges %s, logs and counts it as ignored (%s), and touches nothing', async (_what, reason, bodyFor) => {
    const u = await pendingUpload();
    const body = await bodyFor(u, stack.bucket);
    const bucketBefore = (await stack.deps.storage.listKeys('')).sort();
    watchObservability();

    expect(await deliver(handler, [s3Record(stack.bucket, u.key, { body })])).toEqual([]);

    expect(logged.some(([, fields]) => (fields as { reason?: string } | undefined)?.reason === reason)).toBe(true);
    expect(counted.filter((name) => name.startsWith('Ignored'))).toHaveLength(1);
    expect(await stack.deps.media.findById(u.mediaId)).toEqual(u.row);
    expect((await stack.deps.storage.listKeys('')).sort()).toEqual(bucketBefore);
    expect(await events.eventsFor(u.mediaId)).toEqual([]);
  });
});
