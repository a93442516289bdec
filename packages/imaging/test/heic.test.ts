import decodeHeicPixels from 'heic-decode';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { processImage, type ProcessedImage } from '@media/imaging';
import { CAPTURED_AT } from '../../../test/fixtures/images/camera-metadata';
import { HEIC_SECRETS, heifEnc, iphoneHeic } from '../../../test/fixtures/images/heic';
import { withHeifTransform, withPrimaryExtent } from '../../../test/fixtures/images/heif-transform';
import { BLUE, markedPicture, near, pixelAt, RED } from '../../../test/fixtures/images/pictures';
import { optionsFor, outcomeOf } from './outcomes';

/** Whether a box type's name appears in the file after its ftyp (a property box such as `irot`). */
const hasBox = (file: Buffer, type: string) => file.indexOf(type, 0, 'latin1') > 4;

describe('an iPhone HEIC (HEVC, irot 270°, EXIF orientation 6, Display P3, GPS)', () => {
  let upload: Buffer;
  let result: ProcessedImage;

  beforeAll(async () => {
    upload = await iphoneHeic(480, 640);
    const meta = await sharp(upload).metadata();
    // What a phone sends, as the engine sees its header: HEVC in HEIF, every block present.
    expect(meta).toMatchObject({ format: 'heif', compression: 'hevc', width: 480, height: 640, hasProfile: true });
    expect(meta.exif, 'the upload carries EXIF').toBeDefined();
    result = await processImage(upload, optionsFor('attendance', 'image/heic', { filename: 'IMG_0042.HEIC' }));
  });

  it('is upright exactly once: portrait, red top-left and blue top-right in every variant', async () => {
    expect([result.width, result.height]).toEqual([480, 640]);
    for (const d of result.derivatives) {
      expect(d.height, `${d.name} is portrait`).toBeGreaterThanOrEqual(d.width);
      expect(near((await pixelAt(d.data, 3, 3)).rgb, RED), `${d.name}: red top-left`).toBe(true);
      expect(near((await pixelAt(d.data, d.width - 4, 3)).rgb, BLUE), `${d.name}: blue top-right`).toBe(true);
    }
  });

  it('converts Display P3 to sRGB: the red is the sRGB red, not its P3 numbers', async () => {
    const small = result.derivatives.find((d) => d.name === 'small')!;
    const { rgb } = await pixelAt(small.data, 3, 3);
    expect(near(rgb, RED, 8), `sRGB ${rgb.join(',')} against ${RED.join(',')}`).toBe(true);
    // The file's own numbers for that red (what a decode that ignored the profile would show) are farther off.
    const decoded = await decodeHeicPixels({ buffer: upload });
    const stored = Array.from(decoded.data.subarray((3 * decoded.width + 3) * 4, (3 * decoded.width + 3) * 4 + 3));
    expect(near(stored, RED, 8), `P3 numbers ${stored.join(',')}`).toBe(false);
    for (const d of result.derivatives) expect((await sharp(d.data).metadata()).icc, d.name).toBeUndefined();
  });

  it('keeps the capture time from its EXIF', () => {
    expect(result.capturedAt).toBe(CAPTURED_AT);
  });

  it('keeps a HEIC original without EXIF, with irot and the colour profile, decoding to the same pixels', async () => {
    expect(result.contentType).toBe('image/heic');
    expect(result.originalMethod).toBe('container');
    const meta = await sharp(result.original).metadata();
    expect(meta).toMatchObject({ format: 'heif', compression: 'hevc', width: 480, height: 640 });
    expect(meta.exif, 'EXIF item').toBeUndefined();
    expect(meta.xmp, 'XMP item').toBeUndefined();
    expect(meta.icc?.equals((await sharp(upload).metadata()).icc!), 'the ICC profile as uploaded').toBe(true);
    expect(hasBox(result.original, 'irot'), 'irot kept').toBe(true);
    for (const secret of HEIC_SECRETS) expect(result.original.includes(secret), `the original holds "${secret}"`).toBe(false);
    const [before, after] = await Promise.all([decodeHeicPixels({ buffer: upload }), decodeHeicPixels({ buffer: result.original })]);
    expect([after.width, after.height]).toEqual([480, 640]);
    expect(Buffer.from(after.data).equals(Buffer.from(before.data)), 'the same decoded pixels').toBe(true);
  });

  it('writes no GPS, camera or owner into any derivative', async () => {
    for (const d of result.derivatives) {
      const meta = await sharp(d.data).metadata();
      expect(meta.exif, d.name).toBeUndefined();
      for (const secret of HEIC_SECRETS) expect(d.data.includes(secret), `${d.name} holds "${secret}"`).toBe(false);
    }
  });

  it('does not turn by EXIF orientation when the file has no irot, as HEIF readers do not', async () => {
    // heif-enc's own output: sideways pixels and EXIF orientation 6, no irot. Viewers that follow
    // HEIF show it sideways too; applying EXIF here would make the service disagree with them.
    const noIrot = await iphoneHeic(480, 640, { irot: false });
    const plain = await processImage(noIrot, optionsFor('general', 'image/heic'));
    expect([plain.width, plain.height]).toEqual([640, 480]);
  });
});

describe('HEIC and HEIF, as declared and as named', () => {
  let heic: Buffer;
  beforeAll(async () => {
    heic = await heifEnc([await markedPicture(120, 90).jpeg().toBuffer()]);
  });

  it('takes image/heic and image/heif for every purpose that takes JPEG', async () => {
    for (const purpose of ['profile', 'attendance', 'training', 'general'] as const) {
      for (const declared of ['image/heic', 'image/heif']) {
        expect((await outcomeOf(heic, optionsFor(purpose, declared, { filename: 'photo.heic' }))).code, `${purpose} ${declared}`).toBe(
          'accepted',
        );
      }
    }
  });

  it('refuses a HEIC declared or named as JPEG (TYPE_MISMATCH)', async () => {
    expect((await outcomeOf(heic, optionsFor('general', 'image/jpeg'))).code).toBe('TYPE_MISMATCH');
    expect((await outcomeOf(heic, optionsFor('general', 'image/heic', { filename: 'photo.jpg' }))).code).toBe('TYPE_MISMATCH');
  });

  it('applies imir (a mirror) as libheif does', async () => {
    // Left and right swapped, stored upright: the mirror brings red back to the top-left.
    const mirrored = await heifEnc([await markedPicture(120, 90).flop().jpeg().toBuffer()]);
    const result = await processImage(withHeifTransform(mirrored, { mirrorAxis: 1 }), optionsFor('general', 'image/heic'));
    const small = result.derivatives.find((d) => d.name === 'small')!;
    expect(near((await pixelAt(small.data, 3, 3)).rgb, RED)).toBe(true);
    expect(near((await pixelAt(small.data, small.width - 4, 3)).rgb, BLUE)).toBe(true);
  });
});

describe('HEIC sequences and floods are refused before decoding', () => {
  it('refuses a burst (two images in one file) as IMAGE_SEQUENCE', async () => {
    const frames = await Promise.all(
      [RED, BLUE].map((c) =>
        sharp({ create: { width: 64, height: 48, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } })
          .jpeg()
          .toBuffer(),
      ),
    );
    const burst = await heifEnc(frames);
    expect((await sharp(burst).metadata()).pages).toBe(2);
    const outcome = await outcomeOf(burst, optionsFor('general', 'image/heic'));
    expect(outcome.code).toBe('IMAGE_SEQUENCE');
    expect(outcome.detail).toMatch(/single photo/);
  });

  it('refuses a HEIF with a moov track (an image sequence) as IMAGE_SEQUENCE', async () => {
    const still = await heifEnc([await markedPicture(64, 48).jpeg().toBuffer()]);
    const moov = Buffer.alloc(16);
    moov.writeUInt32BE(16);
    moov.write('moov', 4, 'latin1');
    expect((await outcomeOf(Buffer.concat([still, moov]), optionsFor('general', 'image/heic'))).code).toBe('IMAGE_SEQUENCE');
  });

  it('refuses a HEIC whose header claims more than 25 MP as IMAGE_TOO_LARGE, from the header', async () => {
    const heic = await heifEnc([await markedPicture(64, 48).jpeg().toBuffer()]);
    // 5712 × 4400: past an iPhone's 24 MP; the coded data is still 64 × 48, so only the header says so.
    const outcome = await outcomeOf(withPrimaryExtent(heic, 5712, 4400), optionsFor('general', 'image/heic'));
    expect(outcome.code).toBe('IMAGE_TOO_LARGE');
    expect(outcome.detail).toContain('image/heic is 25 megapixels');
  });

  it('refuses a truncated HEIC as CORRUPT_IMAGE', async () => {
    const heic = await heifEnc([await markedPicture(320, 240).jpeg().toBuffer()]);
    expect((await outcomeOf(heic.subarray(0, heic.length - 200), optionsFor('general', 'image/heic'))).code).toBe('CORRUPT_IMAGE');
  });
});
