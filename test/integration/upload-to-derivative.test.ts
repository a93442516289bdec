import type { DownloadAnswer, MediaRecord, Problem, UploadTicket } from '@media/core';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/** The foundation's user story, steps 2–7, through the real HTTP server and the real S3 server. */
describe('upload to derivative, end to end', () => {
  let stack: TestStack;
  let token: string;
  let photo: Buffer;
  const tenant = uniqueTenant();

  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    // A camera-sized photo, stored landscape with EXIF orientation 6 (upright it is portrait), with GPS tags.
    photo = await makePhoto({ width: 4000, height: 3000, orientation: 6, gps: true });
  });
  afterAll(() => stack?.close());

  it('takes a profile photo from request to ready, serves upright stripped variants, and deletes it all', async () => {
    // Watch what the processor writes, to see the original's purpose tag (s3rver cannot show it back).
    const puts: { key: string; tags?: Record<string, string> }[] = [];
    const put = stack.deps.storage.put.bind(stack.deps.storage);
    stack.deps.storage.put = (key, body, contentType, tags, metadata, cacheControl) => {
      puts.push({ key, tags });
      return put(key, body, contentType, tags, metadata, cacheControl);
    };
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: photo.length, filename: 'portrait.jpg' },
    });
    expect(requested.status).toBe(201);
    const { mediaId, upload, expiresAt, maxBytes } = requested.json;
    expect(maxBytes).toBe(photo.length);
    expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(10 * 60_000);
    expect(upload.fields.key).toBe(`incoming/${tenant}/${mediaId}`);
    expect(upload.fields['Content-Type']).toBe('image/jpeg');
    const policy = JSON.parse(Buffer.from(upload.fields.Policy ?? '', 'base64').toString('utf8'));
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        ['eq', '$key', `incoming/${tenant}/${mediaId}`],
        ['eq', '$Content-Type', 'image/jpeg'],
        ['content-length-range', 1, photo.length],
      ]),
    );

    const pending = await stack.api<MediaRecord>('GET', `/v1/media/${mediaId}`, { token });
    expect(pending.json.status).toBe('pending');
    const notYet = await stack.api<Problem>('GET', `/v1/media/${mediaId}/download?variant=medium`, { token });
    expect(notYet.status).toBe(409);
    expect(notYet.json.code).toBe('NOT_READY');

    // Straight to the S3 server: the API never sees the bytes.
    expect(new URL(upload.url).origin).toBe(stack.s3Endpoint);
    const posted = await stack.postToS3(upload, photo, 'image/jpeg', 'portrait.jpg');
    expect(posted.status).toBe(204);

    const ready = await stack.waitForStatus(mediaId, token);
    expect(ready).toMatchObject({ status: 'ready', width: 3000, height: 4000, filename: 'portrait.jpg' });
    // The stored original lost its camera EXIF and GPS (clean-originals.test.ts has the detail); the hash is the upload's.
    expect(ready.size).toBeLessThan(photo.length);
    expect(ready.sha256).toBe(createHash('sha256').update(photo).digest('hex'));
    expect(ready.placeholder).toBeTruthy();
    const byName = Object.fromEntries(ready.variants.map((v) => [v.name, v]));
    expect(byName.original).toMatchObject({ width: 3000, height: 4000, size: ready.size });
    expect(byName.medium).toMatchObject({ format: 'webp', width: 960, height: 1280 });
    expect(byName.thumb).toMatchObject({ format: 'webp', width: 256, height: 256 });
    expect(byName.ml).toMatchObject({ format: 'jpeg', width: 480, height: 640 });
    // Lifecycle rules key on the purpose tag of originals (attendance moves to infrequent access).
    expect(puts.find((p) => p.key === `originals/${tenant}/${mediaId}`)?.tags).toEqual({ purpose: 'profile' });

    const medium = await stack.api<DownloadAnswer>('GET', `/v1/media/${mediaId}/download?variant=medium`, { token });
    expect(medium.status).toBe(200);
    const mediumBytes = Buffer.from(await (await fetch(medium.json.url)).arrayBuffer());
    expect(mediumBytes.length).toBe(byName.medium?.size);
    const mediumMeta = await sharp(mediumBytes).metadata();
    expect(mediumMeta).toMatchObject({ format: 'webp', width: 960, height: 1280 });
    expect(mediumMeta.exif).toBeUndefined();
    expect(mediumMeta.orientation).toBeUndefined();
    expect(mediumBytes.includes(Buffer.from('GPS'))).toBe(false);
    // Upright: the red block stored at the top-left of a landscape frame (orientation 6) shows at the top-right.
    const { data, info } = await sharp(mediumBytes).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3),
    ];
    const [r, g, b] = pixel(info.width - 40, 40);
    expect(r).toBeGreaterThan(180);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);

    const thumb = await stack.api<DownloadAnswer>('GET', `/v1/media/${mediaId}/download?variant=thumb`, { token });
    const thumbMeta = await sharp(Buffer.from(await (await fetch(thumb.json.url)).arrayBuffer())).metadata();
    expect(thumbMeta).toMatchObject({ format: 'webp', width: 256, height: 256 });

    const deleted = await stack.api('DELETE', `/v1/media/${mediaId}`, { token });
    expect(deleted.status).toBe(204);
    expect((await stack.api('GET', `/v1/media/${mediaId}`, { token })).status).toBe(404);
    expect((await stack.api('GET', `/v1/media/${mediaId}/download?variant=thumb`, { token })).status).toBe(404);
    const left = [
      ...(await stack.deps.storage.listKeys(`incoming/${tenant}/${mediaId}`)),
      ...(await stack.deps.storage.listKeys(`originals/${tenant}/${mediaId}`)),
      ...(await stack.deps.storage.listKeys(`derivatives/${tenant}/${mediaId}/`)),
    ];
    expect(left).toEqual([]);
    // The presigned URL minted before the delete now points at nothing.
    expect((await fetch(medium.json.url)).status).toBe(404);
  });
});

describe('local stack restart', () => {
  it('keeps records and objects in its data directory across a stop and start', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'media-restart-'));
    const tenant = uniqueTenant();
    try {
      let stack = await startTestStack({ dataDir });
      const token = await stack.token({ role: 'student', tenant, sub: 's-1' });
      const photo = await makePhoto({ width: 800, height: 600 });
      const { json } = await stack.api<UploadTicket>('POST', '/v1/uploads', {
        token,
        body: { purpose: 'profile', contentType: 'image/jpeg', size: photo.length },
      });
      await stack.postToS3(json.upload, photo, 'image/jpeg');
      const before = await stack.waitForStatus(json.mediaId, token);
      await stack.close();

      stack = await startTestStack({ dataDir });
      const after = await stack.api('GET', `/v1/media/${json.mediaId}`, { token });
      expect(after.json).toEqual(before);
      const link = await stack.api<DownloadAnswer>('GET', `/v1/media/${json.mediaId}/download?variant=small`, { token });
      const res = await fetch(link.json.url);
      expect(res.status).toBe(200);
      expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(480);
      await stack.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
