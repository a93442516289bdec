import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DownloadAnswer, MediaRecord, UploadTicket } from '@media/core';
import { derivativePrefix, incomingKey, originalKey } from '@media/storage';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { smokeCheck } from '../../infra/lib/smoke-check';
import { makePhoto } from '../fixtures/photos';
import { phoneClip } from '../fixtures/videos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/**
 * Parity mode (`MEDIA_LOCAL_ARTIFACTS=1 npm start`): the HTTP adapter and the event pump drive the
 * bundles `cdk synth` builds, each started from its own asset folder in a process of its own, as
 * Lambda runs them. A user's whole story through them proves what a deploy ships, not the sources.
 */
describe('the local stack in parity mode, running the synthesized bundles', () => {
  let stack: TestStack;
  const tenant = uniqueTenant();

  beforeAll(async () => {
    expect(inject('databaseUrl'), 'parity mode needs a PostgreSQL server: bundles carry no PGlite').toBeTruthy();
    stack = await startTestStack({ artifacts: true });
  }, 600_000);
  afterAll(() => stack?.close());

  it('runs the bundles, not the sources', () => {
    expect(stack.functionsMode).toBe('artifacts');
  });

  it('takes a photo from upload to ready, serves it, and deletes every object', async () => {
    const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const photo = await makePhoto({ width: 1600, height: 1200, orientation: 6 });

    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'attendance', classroomId: 'c-1', contentType: 'image/jpeg', size: photo.length, filename: 'class.jpg' },
    });
    expect(requested.status).toBe(201);
    const { mediaId, upload } = requested.json;
    expect((await stack.postToS3(upload, photo, 'image/jpeg', 'class.jpg')).status).toBe(204);

    // The bundled processor, with sharp for this machine, did the work.
    const ready = await stack.waitForStatus(mediaId, token, ['ready', 'rejected'], 120_000);
    expect(ready).toMatchObject({ status: 'ready', width: 1200, height: 1600 });
    expect(ready.variants.map((v) => v.name)).toEqual(expect.arrayContaining(['thumb', 'medium', 'original']));

    const download = await stack.api<DownloadAnswer>('GET', `/v1/media/${mediaId}/download?variant=medium`, { token });
    expect(download.status).toBe(200);
    const served = Buffer.from(await (await fetch(download.json.url)).arrayBuffer());
    expect(await sharp(served).metadata()).toMatchObject({ format: 'webp', width: 960, height: 1280 });

    // Attendance photos are kept for audit: the school's admin deletes them.
    const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
    expect((await stack.api('DELETE', `/v1/media/${mediaId}`, { token: admin })).status).toBe(204);
    const deleted = await stack.api<MediaRecord>('GET', `/v1/media/${mediaId}`, { token: admin });
    expect(deleted.status).toBe(404);

    // The bundled sweeper purges whatever objects remain.
    await stack.sweep();
    for (const key of [incomingKey(tenant, mediaId), originalKey(tenant, mediaId)]) {
      expect(await stack.deps.storage.head(key), key).toBeNull();
    }
    expect(await stack.deps.storage.listKeys(derivativePrefix(tenant, mediaId))).toEqual([]);
  });

  it('takes a phone clip to ready through the bundled video function and the transform function it invokes', async () => {
    const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const dir = await mkdtemp(join(tmpdir(), 'media-parity-clip-'));
    try {
      const clip = await phoneClip(dir, 'mp4', 2, '160x120');
      const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
        token,
        body: { purpose: 'general', contentType: 'video/mp4', size: clip.length, filename: 'clip.mp4' },
      });
      expect(requested.status).toBe(201);
      expect((await stack.postToS3(requested.json.upload, clip, 'video/mp4', 'clip.mp4')).status).toBe(204);
      const ready = await stack.waitForStatus(requested.json.mediaId, token, ['ready', 'rejected'], 180_000);
      expect(ready).toMatchObject({ status: 'ready', kind: 'video', width: 120, height: 160 });
      expect(await stack.deps.storage.listKeys(`scratch/${tenant}/`)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it("passes the operator's smoke check (npm run smoke), as it would after a deploy", async () => {
    const token = await stack.token({ role: 'teacher', tenant, sub: 't-smoke', classrooms: [] });
    const steps = await smokeCheck({ apiUrl: stack.apiUrl, token, timeoutMs: 120_000 });
    expect(steps.map((s) => s.step)).toEqual(['health', 'upload to storage', 'processed', 'derivative served', 'deleted']);
  });
});
