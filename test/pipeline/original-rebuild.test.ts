import './support/quiet';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dependencies } from '@media/service';
import { incomingKey, originalKey } from '@media/storage';
import { handler as processUpload } from '../../functions/process-upload/handler';
import { CAPTURED_AT, cameraPhoto } from '../fixtures/images/camera-metadata';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { deliver, deliverUntilAcknowledged, s3Record } from './support/deliveries';
import { failOnce, noFaults, withFaults, type FaultPlan } from './support/fault-injection';
import { objectsOf, upload, variantKeys } from './support/uploads';

/**
 * A worker stores the original and fails; by the time the message comes back (a redrive from the
 * dead-letter queue, days later) the incoming object has expired. The retry has only the stored
 * original, whose metadata is gone: the record must still show the upload's hash and capture time.
 */
describe('a retry that finds only the stored original', () => {
  let stack: TestStack;
  const depsWith = (plan: FaultPlan) => withFaults<Dependencies>({ ...stack.deps }, plan);

  beforeAll(async () => {
    stack = await startTestStack();
    await stack.pump.stop();
  });
  afterAll(() => stack?.close());

  it('records the sha256 of the bytes as uploaded and their capture time, not those of the cleaned original', async () => {
    const tenant = uniqueTenant();
    const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
    const photo = await cameraPhoto('jpeg', 800, 600);
    const { mediaId, key } = await upload(stack, token, photo);
    const record = s3Record(stack.bucket, key);

    const plan = failOnce((c) => c.label === 'storage.put original', 'after');
    await deliver(processUpload.withDependencies(depsWith(plan)), [record]);
    expect(plan.fired()).toBe(true);
    expect((await stack.deps.storage.getBytes(originalKey(tenant, mediaId)))?.length).toBeLessThan(photo.length);
    await stack.deps.storage.deleteMany([incomingKey(tenant, mediaId)]); // the lifecycle rule's day has passed

    await deliverUntilAcknowledged(() => processUpload.withDependencies(depsWith(noFaults)), record, { backoffMs: () => 1000 });
    const row = (await stack.deps.media.findById(mediaId))!;
    expect(row).toMatchObject({ status: 'ready', width: 600, height: 800, capturedAt: CAPTURED_AT });
    expect(row.sha256).toBe(createHash('sha256').update(photo).digest('hex'));
    expect(await objectsOf(stack, tenant, mediaId)).toEqual(variantKeys(row));
  });
});
