import './support/quiet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadAnswer, Principal, Problem, UploadTicket } from '@media/core';
import type { MediaUpdate } from '@media/db';
import { deleteMedia, type Dependencies } from '@media/service';
import { sweep } from '@media/service/processing';
import { incomingKey } from '@media/storage';
import { handler as processUpload } from '@media/functions/process-upload';
import { handler as sweeper } from '@media/functions/sweeper';
import { lambdaContext } from '@media/local';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { deliver, s3Record } from './support/deliveries';
import { QueueLog } from './support/event-log';
import { transientError, withFaults } from './support/fault-injection';
import { isolatedDatabase } from './support/isolated-database';
import { objectsOf, upload, variantKeys } from './support/uploads';

/**
 * The sweeper looks at every row, so this file has a database of its own. Time passes by moving a
 * row's deadlines into the past, as a clock would.
 */
describe('the sweeper', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let stack: TestStack;
  let events: QueueLog;
  let photo: Buffer;
  const hourAgo = () => new Date(Date.now() - 3_600_000);

  beforeAll(async () => {
    database = await isolatedDatabase();
    stack = await startTestStack({ databaseUrl: database.url });
    // Events are delivered by the test, or lost on purpose.
    await stack.pump.stop();
    events = new QueueLog(stack.sqs, stack.queues.events);
    photo = await makePhoto({ width: 800, height: 600 });
  });
  afterAll(async () => {
    await stack?.close();
    await database?.drop();
  });

  const travel = (id: string, change: MediaUpdate) => stack.deps.db.updateTable('media').set(change).where('id', '=', id).execute();
  const row = async (id: string) => (await stack.deps.media.findById(id))!;
  const newTenant = async (role: Principal['role'] = 'student') => {
    const tenant = uniqueTenant();
    const principal = { role, tenant, sub: `${role}-1`, classrooms: [] } as Principal;
    return { tenant, principal, token: await stack.token(principal) };
  };
  /** An item processed the normal way. */
  const readyItem = async () => {
    const t = await newTenant();
    const u = await upload(stack, t.token, photo);
    expect(await deliver(processUpload.withDependencies(stack.deps), [s3Record(stack.bucket, u.key)])).toEqual([]);
    return { ...t, ...u };
  };
  const s3Failing = (label: string) =>
    withFaults<Dependencies>(stack.deps, (call, phase) =>
      phase === 'before' && call.label.startsWith(label) ? transientError(call) : undefined,
    );

  it('expires an upload that never arrived once its POST expiry and grace have passed, and deletes what arrives after', async () => {
    const t = await newTenant();
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: t.token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: photo.length },
    });
    const id = requested.json.mediaId;
    await sweep(stack.deps);
    expect((await row(id)).status).toBe('pending');

    await travel(id, { uploadExpiresAt: hourAgo() });
    const report = await sweep(stack.deps);
    expect(report.expired).toBe(1);
    expect((await row(id)).status).toBe('expired');

    // The emulator does not refuse a POST after its expiry; S3 would. Whatever lands is removed.
    await stack.postToS3(requested.json.upload, photo, 'image/jpeg');
    expect(await deliver(processUpload.withDependencies(stack.deps), [s3Record(stack.bucket, incomingKey(t.tenant, id))])).toEqual([]);
    expect(await objectsOf(stack, t.tenant, id)).toEqual([]);
    expect(await events.eventsFor(id)).toEqual([]);
  });

  it('processes an upload whose object arrived but whose event was lost, instead of expiring it', async () => {
    const t = await newTenant();
    const { mediaId } = await upload(stack, t.token, photo);
    await travel(mediaId, { uploadExpiresAt: hourAgo() });

    expect((await sweep(stack.deps)).processed).toBe(1);
    const ready = await row(mediaId);
    expect(ready).toMatchObject({ status: 'ready', leaseExpiresAt: null });
    expect(await objectsOf(stack, t.tenant, mediaId)).toEqual(variantKeys(ready));
    expect((await events.eventsFor(mediaId)).map((e) => e.type)).toEqual(['media.ready']);
  });

  it('finishes an item whose worker died holding its lease, once the lease has run out', async () => {
    const t = await newTenant();
    const { mediaId } = await upload(stack, t.token, photo);
    // A worker claims it and is never heard from again.
    await stack.deps.media.claim(mediaId, 300);
    await sweep(stack.deps);
    expect((await row(mediaId)).status).toBe('processing');

    await travel(mediaId, { leaseExpiresAt: hourAgo() });
    expect((await sweep(stack.deps)).processed).toBe(1);
    expect((await row(mediaId)).status).toBe('ready');
    expect((await events.eventsFor(mediaId)).map((e) => e.type)).toEqual(['media.ready']);
  });

  it('hands back a lapsed lease whose object is not there, so the upload can still arrive', async () => {
    const t = await newTenant();
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: t.token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: photo.length },
    });
    const id = requested.json.mediaId;
    await stack.deps.media.claim(id, 300);
    await travel(id, { leaseExpiresAt: hourAgo() });

    await sweep(stack.deps);
    expect(await row(id)).toMatchObject({ status: 'pending', leaseExpiresAt: null, leaseOwner: null });
  });

  it('sends each event a worker failed to send exactly once, with three sweepers running at the same time', async () => {
    const items = [];
    for (let i = 0; i < 3; i++) {
      const t = await newTenant();
      const u = await upload(stack, t.token, photo);
      const record = s3Record(stack.bucket, u.key);
      expect(await deliver(processUpload.withDependencies(s3Failing('events.publish')), [record])).toEqual([record.messageId]);
      expect(await row(u.mediaId)).toMatchObject({ status: 'ready', eventPublishedAt: null });
      items.push({ ...t, ...u });
    }
    const runSweeper = sweeper.withDependencies(stack.deps);
    await Promise.all([1, 2, 3].map(() => runSweeper({}, lambdaContext('sweeper', 60_000))));

    for (const item of items) {
      expect((await events.eventsFor(item.mediaId)).map((e) => e.eventId)).toEqual([`media.ready:${item.mediaId}`]);
      expect((await row(item.mediaId)).eventPublishedAt).toBeInstanceOf(Date);
      expect(await objectsOf(stack, item.tenant, item.mediaId)).toEqual(variantKeys(await row(item.mediaId)));
    }
    expect(await sweep(stack.deps)).toMatchObject({ processed: 0, announced: 0, expired: 0, failed: 0 });
  });

  it('keeps retrying the purge of a deleted item whose objects S3 failed to remove, until none remain', async () => {
    const item = await readyItem();
    const before = await row(item.mediaId);
    const link = await stack.api<DownloadAnswer>('GET', `/v1/media/${item.mediaId}/download?variant=small`, { token: item.token });
    expect(link.status).toBe(200);

    // S3 fails half-way through the delete: the delete itself has happened all the same.
    expect(await deleteMedia(s3Failing('storage.deleteMany'), item.principal, item.mediaId)).toEqual({ purged: false });
    const tombstone = await row(item.mediaId);
    expect(tombstone).toMatchObject({ status: 'deleted', deletedBy: item.principal.sub, purgedAt: null });
    expect(tombstone.deletedAt).toBeInstanceOf(Date);
    expect((await stack.api('GET', `/v1/media/${item.mediaId}/download?variant=small`, { token: item.token })).status).toBe(404);
    expect(await objectsOf(stack, item.tenant, item.mediaId)).toEqual(variantKeys(before));

    // The next run meets a failing S3 too, and leaves the item for the one after.
    expect((await sweep(s3Failing('storage.deleteMany'))).failed).toBeGreaterThanOrEqual(1);
    expect((await row(item.mediaId)).purgedAt).toBeNull();

    expect((await sweep(stack.deps)).purged).toBe(1);
    expect((await row(item.mediaId)).purgedAt).toBeInstanceOf(Date);
    expect(await objectsOf(stack, item.tenant, item.mediaId)).toEqual([]);
    expect((await fetch(link.json.url)).status).toBe(404);
    expect((await events.eventsFor(item.mediaId)).map((e) => e.type)).toEqual(['media.ready', 'media.deleted']);
  });

  it('sends the media.deleted event later when the queue was down at the time of the delete', async () => {
    const item = await readyItem();
    expect(await deleteMedia(s3Failing('events.publish'), item.principal, item.mediaId)).toEqual({ purged: true });
    expect((await row(item.mediaId)).eventPublishedAt).toBeNull();

    expect((await sweep(stack.deps)).announced).toBe(1);
    const sent = await events.eventsFor(item.mediaId);
    expect(sent.map((e) => e.eventId)).toEqual([`media.ready:${item.mediaId}`, `media.deleted:${item.mediaId}`]);
  });

  it('never purges an item under legal hold, whatever state its row is in', async () => {
    const item = await readyItem();
    const admin = await stack.token({ role: 'admin', tenant: item.tenant, sub: 'admin-1' });
    expect((await stack.api('PUT', `/v1/media/${item.mediaId}/legal-hold`, { token: admin, body: { hold: true } })).status).toBe(200);
    expect((await stack.api<Problem>('DELETE', `/v1/media/${item.mediaId}`, { token: admin })).json.code).toBe('LEGAL_HOLD');
    // Even a row that says deleted (a bug, a hand edit) keeps its objects while the hold stands.
    await travel(item.mediaId, { status: 'deleted', deletedAt: new Date(), deletedBy: 'someone' });

    await sweep(stack.deps);
    expect(await objectsOf(stack, item.tenant, item.mediaId)).toEqual(variantKeys(await row(item.mediaId)));
    expect((await row(item.mediaId)).purgedAt).toBeNull();
  });
});
