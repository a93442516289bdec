import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import type { DownloadAnswer, MediaRecord, UploadTicket } from '@media/core';
import { demoPhoto } from '../../packages/faces/test/demo-photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/**
 * The face stage as `npm start` runs it: the processor hands a ready photo to the face queue, the
 * stack's pump feeds it to detect-faces, and the record gains its faces and `blurred`.
 */
describe('the local stack with the face stage on', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ faces: true });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('gives a photo with faces its faces and a blurred variant after it is ready', async () => {
    const tenant = uniqueTenant();
    const teacher = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
    const photo = demoPhoto('sample4.jpg');
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: teacher,
      body: { purpose: 'attendance', classroomId: 'c-1', contentType: 'image/jpeg', size: photo.length },
    });
    expect(requested.status).toBe(201);
    expect((await stack.postToS3(requested.json.upload, photo, 'image/jpeg')).ok).toBe(true);
    const id = requested.json.mediaId;
    const ready = await stack.waitForStatus(id, teacher, ['ready', 'rejected']);
    expect(ready.status).toBe('ready');

    let record: MediaRecord | undefined;
    const deadline = Date.now() + 120_000;
    while (!record?.faces) {
      if (Date.now() > deadline) throw new Error(`no faces recorded for ${id} within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      record = (await stack.api<MediaRecord>('GET', `/v1/media/${id}`, { token: admin })).json;
    }
    expect(record.faces).toHaveLength(4);

    // `blurred` is a variant like any other: the teacher who may see `medium` downloads it.
    const link = await stack.api<DownloadAnswer>('GET', `/v1/media/${id}/download?variant=blurred`, { token: teacher });
    expect(link.status).toBe(200);
    const blurred = await fetch(link.json.url);
    expect(blurred.headers.get('content-type')).toBe('image/webp');
    const { width, height } = await sharp(Buffer.from(await blurred.arrayBuffer())).metadata();
    expect({ width, height }).toEqual({ width: ready.width, height: ready.height });
    // No school enabled recognition for attendance here: no crops.
    const crop = await stack.api('GET', `/v1/media/${id}/download?variant=faces/0`, { token: admin });
    expect(crop.status).toBeGreaterThanOrEqual(400);
  }, 180_000);
});
