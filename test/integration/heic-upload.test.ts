import { createMediaClient } from '@media/client';
import type { DownloadAnswer, MediaRecord, UploadTicket } from '@media/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURED_AT } from '../fixtures/images/camera-metadata';
import { HEIC_SECRETS, heifEnc, iphoneHeic } from '../fixtures/images/heic';
import { BLUE, markedPicture, near, pixelAt, RED } from '../fixtures/images/pictures';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/**
 * A teacher uploads the photo an iPhone takes: HEIC with a 270° irot and EXIF orientation 6
 * (both saying the same turn), Display P3, GPS, the camera and its owner. It ends ready, upright
 * once, its variants and its HEIC original free of the EXIF, through the API, S3 and the processor.
 */
describe('an iPhone HEIC through the pipeline', () => {
  let stack: TestStack;
  let teacher: string;
  const tenant = uniqueTenant();

  beforeAll(async () => {
    stack = await startTestStack();
    teacher = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
  });
  afterAll(() => stack?.close());

  async function upload(photo: Buffer, contentType: string, filename: string): Promise<MediaRecord> {
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: teacher,
      body: { purpose: 'attendance', classroomId: 'c-1', contentType, size: photo.length, filename },
    });
    expect(requested.status, JSON.stringify(requested.json)).toBe(201);
    expect((await stack.postToS3(requested.json.upload, photo, contentType)).status).toBe(204);
    return stack.waitForStatus(requested.json.mediaId, teacher);
  }

  async function download(id: string, variant: string): Promise<Buffer> {
    const link = await stack.api<DownloadAnswer>('GET', `/v1/media/${id}/download?variant=${variant}`, { token: teacher });
    expect(link.status, `the uploading teacher may download ${variant}`).toBe(200);
    const res = await fetch(link.json.url);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  it('ends ready, upright once, with its capture time; no variant and not the HEIC original keeps GPS, camera or owner', async () => {
    const photo = await iphoneHeic(900, 1200);
    expect((await sharp(photo).metadata()).exif, 'the upload carries EXIF').toBeDefined();
    for (const secret of HEIC_SECRETS) expect(photo.includes(secret), `the upload carries "${secret}"`).toBe(true);

    const record = await upload(photo, 'image/heic', 'IMG_4711.HEIC');
    expect(record).toMatchObject({ status: 'ready', contentType: 'image/heic', width: 900, height: 1200, capturedAt: CAPTURED_AT });
    expect(record.variants.map((v) => v.name)).toEqual(['original', 'thumb', 'small', 'medium', 'large', 'ml']);

    for (const variant of record.variants) {
      const bytes = await download(record.id, variant.name);
      expect(bytes.length, `${variant.name}: the recorded size is the stored size`).toBe(variant.size);
      for (const secret of HEIC_SECRETS) expect(bytes.includes(secret), `${variant.name} contains "${secret}"`).toBe(false);
      const meta = await sharp(bytes).metadata();
      expect({ exif: meta.exif, xmp: meta.xmp }, variant.name).toEqual({ exif: undefined, xmp: undefined });
      if (variant.name === 'original') {
        // Still HEIC: the same coded image, its irot (so it shows upright) and its colour profile.
        expect(meta).toMatchObject({ format: 'heif', compression: 'hevc', width: 900, height: 1200 });
        expect(meta.icc?.equals((await sharp(photo).metadata()).icc!), 'the profile as uploaded').toBe(true);
        expect(bytes.indexOf('irot', 0, 'latin1'), 'irot kept').toBeGreaterThan(0);
      } else {
        expect(variant.height, `${variant.name} is portrait`).toBeGreaterThanOrEqual(variant.width);
        expect(near((await pixelAt(bytes, 3, 3)).rgb, RED), `${variant.name}: red top-left`).toBe(true);
        expect(near((await pixelAt(bytes, meta.width - 4, 3)).rgb, BLUE), `${variant.name}: blue top-right`).toBe(true);
      }
    }
  });

  it('takes a photo declared image/heif', async () => {
    const photo = await heifEnc([await markedPicture(320, 240).jpeg().toBuffer()]);
    expect(await upload(photo, 'image/heif', 'photo.heif')).toMatchObject({ status: 'ready', width: 320, height: 240 });
  });

  it('the typed client sends a .HEIC file that the browser gave no type as image/heic', async () => {
    // Chrome on Linux and Windows leaves File.type empty for .heic: the client goes by the name.
    const file = new File([new Uint8Array(await heifEnc([await markedPicture(200, 150).jpeg().toBuffer()]))], 'IMG_0007.HEIC');
    expect(file.type).toBe('');
    const client = createMediaClient({ baseUrl: stack.apiUrl, token: teacher });
    const { mediaId } = await client.upload(file, { purpose: 'general' });
    expect(await client.waitUntilReady(mediaId, { timeoutMs: 120_000 })).toMatchObject({
      status: 'ready',
      contentType: 'image/heic',
      width: 200,
    });
  });

  it('rejects a burst (several images in one HEIC) as IMAGE_SEQUENCE and keeps nothing of it', async () => {
    const frames = await Promise.all(
      [RED, BLUE].map((c) =>
        sharp({ create: { width: 64, height: 48, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } })
          .jpeg()
          .toBuffer(),
      ),
    );
    const record = await upload(await heifEnc(frames), 'image/heic', 'burst.heic');
    expect(record).toMatchObject({ status: 'rejected', rejection: { code: 'IMAGE_SEQUENCE' }, variants: [] });
  });
});
