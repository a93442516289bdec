import type { DownloadAnswer, MediaRecord, UploadTicket } from '@media/core';
import { orientationOnlyExif } from '@media/imaging';
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CAPTURED_AT, cameraPhoto, NEVER_STORED, SECRETS } from '../fixtures/images/camera-metadata';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/**
 * The attack of the issue: a teacher's attendance photo carries GPS, the phone model, XMP naming
 * a child and a comment with HTML; whoever may read it downloads every variant, the original
 * included. Nothing of it may come back, and the original must still be the photo.
 */
describe('every stored byte is clean', () => {
  let stack: TestStack;
  let teacher: string;
  const tenant = uniqueTenant();

  beforeAll(async () => {
    stack = await startTestStack();
    teacher = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
  });
  afterAll(() => stack?.close());

  async function upload(photo: Buffer, format: string): Promise<MediaRecord> {
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: teacher,
      body: {
        purpose: 'attendance',
        classroomId: 'c-1',
        contentType: `image/${format}`,
        size: photo.length,
        filename: `attendance.${format}`,
      },
    });
    expect(requested.status).toBe(201);
    expect((await stack.postToS3(requested.json.upload, photo, `image/${format}`)).status).toBe(204);
    return stack.waitForStatus(requested.json.mediaId, teacher);
  }

  async function download(id: string, variant: string): Promise<Buffer> {
    const link = await stack.api<DownloadAnswer>('GET', `/v1/media/${id}/download?variant=${variant}`, { token: teacher });
    expect(link.status, `the uploading teacher may download ${variant}`).toBe(200);
    const res = await fetch(link.json.url);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  it.each(['jpeg', 'png', 'webp'] as const)(
    'a camera-like %s with GPS, XMP, IPTC and a comment ends ready, every variant free of them, the original pixel-identical',
    async (format) => {
      const photo = await cameraPhoto(format, 1600, 1200);
      for (const secret of SECRETS) expect(photo.includes(secret), `the upload carries "${secret}"`).toBe(true);

      const record = await upload(photo, format);
      expect(record).toMatchObject({ status: 'ready', width: 1200, height: 1600, capturedAt: CAPTURED_AT });
      expect(record.sha256, 'the hash is of the bytes as uploaded').toBe(createHash('sha256').update(photo).digest('hex'));
      expect(record.variants.map((v) => v.name)).toEqual(['original', 'thumb', 'small', 'medium', 'large', 'ml']);

      for (const variant of record.variants) {
        const bytes = await download(record.id, variant.name);
        expect(bytes.length, `${variant.name}: the recorded size is the stored size`).toBe(variant.size);
        for (const secret of NEVER_STORED) expect(bytes.includes(secret), `${variant.name} contains "${secret}"`).toBe(false);
        const meta = await sharp(bytes).metadata();
        expect({ xmp: meta.xmp, iptc: meta.iptc, comments: meta.comments }, variant.name).toEqual({
          xmp: undefined,
          iptc: undefined,
          comments: undefined,
        });
        if (variant.name === 'original') {
          // All the original keeps: its colour profile and an EXIF block holding the orientation alone (no GPS IFD, no camera).
          expect(meta.exif?.subarray(-26), 'orientation-only EXIF').toEqual(orientationOnlyExif(6));
          expect(meta.orientation).toBe(6);
          expect(meta.icc).toBeDefined();
          expect(bytes.length).toBe(record.size);
          const [stored, uploaded] = await Promise.all([
            sharp(bytes).autoOrient().raw().toBuffer(),
            sharp(photo).autoOrient().raw().toBuffer(),
          ]);
          expect(stored.equals(uploaded), 'the original decodes to the pixels of the upload').toBe(true);
        } else {
          expect({ exif: meta.exif, icc: meta.icc, orientation: meta.orientation }, variant.name).toEqual({
            exif: undefined,
            icc: undefined,
            orientation: undefined,
          });
        }
      }
    },
  );

  it('records no capture time for a photo whose EXIF has none', async () => {
    const photo = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#3a6' } })
      .withExif({ IFD0: { Make: 'CameraMaker' } })
      .jpeg()
      .toBuffer();
    const record = await upload(photo, 'jpeg');
    expect(record).toMatchObject({ status: 'ready', capturedAt: null });
    expect((await download(record.id, 'original')).includes('CameraMaker')).toBe(false);
  });
});
