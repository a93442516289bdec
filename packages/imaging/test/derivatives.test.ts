import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PURPOSE_POLICIES } from '@media/core';
import { hammingDistance, processImage, sniffImageType, UploadRejected } from '@media/imaging';
import { makePhoto } from '../../../test/fixtures/photos';

const profile = PURPOSE_POLICIES.profile;
const options = (declaredType: string) => ({ declaredType, allowedTypes: profile.allowedTypes, derivatives: profile.derivatives });

const rejectionOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UploadRejected) return error.code;
    throw error;
  }
  return 'accepted';
};

describe('processImage', () => {
  it('auto-orients, never upscales, and strips metadata from every derivative', async () => {
    const photo = await makePhoto({ width: 1200, height: 900, orientation: 6, gps: true });
    const result = await processImage(photo, options('image/jpeg'));
    expect(result).toMatchObject({ contentType: 'image/jpeg', width: 900, height: 1200 });
    const byName = Object.fromEntries(result.derivatives.map((d) => [d.name, d]));
    expect(byName.medium).toMatchObject({ width: 900, height: 1200, format: 'webp' }); // not upscaled to 1280
    expect(byName.small).toMatchObject({ width: 360, height: 480 });
    expect(byName.thumb).toMatchObject({ width: 256, height: 256 });
    expect(byName.ml).toMatchObject({ width: 480, height: 640, format: 'jpeg' });
    for (const d of result.derivatives) {
      const meta = await sharp(d.data).metadata();
      expect(meta.exif, d.name).toBeUndefined();
      expect(meta.xmp, d.name).toBeUndefined();
      expect(meta.orientation, d.name).toBeUndefined();
    }
  });

  it('gives near-identical photos near-identical perceptual hashes', async () => {
    const photo = await makePhoto({ width: 800, height: 600 });
    const recompressed = await sharp(photo).resize(640).jpeg({ quality: 60 }).toBuffer();
    const a = await processImage(photo, options('image/jpeg'));
    const b = await processImage(recompressed, options('image/jpeg'));
    expect(hammingDistance(a.phash, b.phash)).toBeLessThanOrEqual(6);
    expect(a.sha256).not.toBe(b.sha256);
  });

  it('rejects a PNG declared as JPEG', async () => {
    const png = await makePhoto({ width: 64, height: 64, format: 'png' });
    expect(sniffImageType(png)).toBe('image/png');
    expect(await rejectionOf(processImage(png, options('image/jpeg')))).toBe('TYPE_MISMATCH');
  });

  it('rejects empty, non-image and truncated files', async () => {
    expect(await rejectionOf(processImage(Buffer.alloc(0), options('image/jpeg')))).toBe('EMPTY_FILE');
    expect(await rejectionOf(processImage(Buffer.from('<html><script>alert(1)</script>'), options('image/jpeg')))).toBe('UNSUPPORTED_MEDIA_TYPE');
    const photo = await makePhoto({ width: 600, height: 400 });
    expect(await rejectionOf(processImage(photo.subarray(0, photo.length / 2), options('image/jpeg')))).toBe('CORRUPT_IMAGE');
  });

  it('refuses a pixel flood from its header, before decoding', async () => {
    // 10000×10000 of one colour compresses to a few KB: a classic decompression bomb.
    const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#fff' } }).png().toBuffer();
    expect(await rejectionOf(processImage(bomb, options('image/png')))).toBe('IMAGE_TOO_LARGE');
  });
});
