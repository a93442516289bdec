import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { hammingDistance, processImage } from '@media/imaging';
import { makePhoto } from '../../../test/fixtures/photos';
import { markedPicture, multiFrame, near, pixelAt, RED } from '../../../test/fixtures/images/pictures';
import { optionsFor } from './outcomes';

const sizes = (result: Awaited<ReturnType<typeof processImage>>) =>
  Object.fromEntries(result.derivatives.map((d) => [d.name, `${d.format} ${d.width}×${d.height}`]));

/** The IJG luminance table at quality 90, as libjpeg scales the standard table (Annex K). */
const Q90_LUMINANCE_FIRST_ROW = [16, 11, 10, 16, 24, 40, 51, 61].map((v) => Math.min(255, Math.max(1, Math.floor((v * 20 + 50) / 100))));

function firstQuantisationRow(jpeg: Buffer): number[] {
  const dqt = jpeg.indexOf(Buffer.from([0xff, 0xdb]));
  // Zig-zag order: the first row's 8 entries sit at positions 0, 1, 5, 6, 14, 15, 27, 28.
  return [0, 1, 5, 6, 14, 15, 27, 28].map((z) => jpeg[dqt + 5 + z]!);
}

describe('the derivative set', () => {
  it('makes thumb 256×256, small 480, medium 1280, large 2048 WebP and ml 640 JPEG from a large photo', async () => {
    const photo = await markedPicture(3000, 2000).jpeg().toBuffer();
    const result = await processImage(photo, optionsFor('attendance', 'image/jpeg'));
    expect(sizes(result)).toEqual({
      thumb: 'webp 256×256',
      small: 'webp 480×320',
      medium: 'webp 1280×853',
      large: 'webp 2048×1365',
      ml: 'jpeg 640×427',
    });
    for (const d of result.derivatives) expect(d.contentType).toBe(d.format === 'jpeg' ? 'image/jpeg' : 'image/webp');
  });

  it('never enlarges small, medium or large beyond the original', async () => {
    const photo = await markedPicture(1000, 700).jpeg().toBuffer();
    const result = await processImage(photo, optionsFor('attendance', 'image/jpeg'));
    expect(sizes(result)).toEqual({
      thumb: 'webp 256×256',
      small: 'webp 480×336',
      medium: 'webp 1000×700',
      large: 'webp 1000×700',
      ml: 'jpeg 640×448',
    });
  });

  it('encodes ml as a quality-90 baseline JPEG with full-resolution chroma', async () => {
    const result = await processImage(await markedPicture(800, 600).jpeg().toBuffer(), optionsFor('training', 'image/jpeg'));
    const ml = result.derivatives.find((d) => d.name === 'ml')!;
    expect(firstQuantisationRow(ml.data)).toEqual(Q90_LUMINANCE_FIRST_ROW);
    expect(await sharp(ml.data).metadata()).toMatchObject({
      format: 'jpeg',
      chromaSubsampling: '4:4:4',
      isProgressive: false,
      space: 'srgb',
    });
  });

  it('crops the thumb to what draws the eye, not to the middle', async () => {
    // A wide grey frame with a face-coloured, detailed subject near the right edge: a centre crop misses it.
    const subject = await sharp({
      create: { width: 220, height: 300, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
    })
      .tint({ r: 224, g: 172, b: 140 })
      .png()
      .toBuffer();
    const wide = await sharp({ create: { width: 1500, height: 400, channels: 3, background: '#808080' } })
      .composite([{ input: subject, left: 1240, top: 50 }])
      .jpeg()
      .toBuffer();
    const thumb = (await processImage(wide, optionsFor('profile', 'image/jpeg'))).derivatives.find((d) => d.name === 'thumb')!;
    expect({ width: thumb.width, height: thumb.height }).toEqual({ width: 256, height: 256 });
    const { data, info } = await sharp(thumb.data).raw().toBuffer({ resolveWithObject: true });
    let shown = 0;
    for (let i = 0; i < data.length; i += info.channels) if (Math.abs(data[i]! - 128) > 6 || Math.abs(data[i + 2]! - 128) > 6) shown++;
    // The whole subject in a 400×400 window is 41 % of it; a centre crop would show none.
    expect(shown / (info.width * info.height), 'share of the subject in the thumb').toBeGreaterThan(0.35);
  });

  it('enlarges only the thumb of a tiny image, to keep grids square', async () => {
    const result = await processImage(await markedPicture(120, 90).png().toBuffer(), optionsFor('attendance', 'image/png'));
    expect(sizes(result)).toEqual({
      thumb: 'webp 256×256',
      small: 'webp 120×90',
      medium: 'webp 120×90',
      large: 'webp 120×90',
      ml: 'jpeg 120×90',
    });
  });
});

describe('animated and multi-page inputs use their first frame', () => {
  it.each(['gif', 'webp'] as const)('an animated %s', async (format) => {
    const animation = await multiFrame(format, [RED, [30, 40, 220], [40, 200, 40]], 90, 60);
    expect((await sharp(animation).metadata()).pages).toBe(3);
    const result = await processImage(animation, optionsFor('general', `image/${format}`));
    expect(result).toMatchObject({ width: 90, height: 60 });
    const small = result.derivatives.find((d) => d.name === 'small')!;
    expect({ width: small.width, height: small.height, pages: (await sharp(small.data).metadata()).pages }).toEqual({
      width: 90,
      height: 60,
      pages: undefined,
    });
    expect(near((await pixelAt(small.data, 45, 30)).rgb, RED)).toBe(true);
  });

  it('a multi-page TIFF for training', async () => {
    const tiff = await multiFrame('tiff', [RED, [30, 40, 220]], 90, 60);
    expect((await sharp(tiff).metadata()).pages).toBe(2);
    const result = await processImage(tiff, optionsFor('training', 'image/tiff'));
    expect(result).toMatchObject({ contentType: 'image/tiff', width: 90, height: 60 });
    expect(near((await pixelAt(result.derivatives.find((d) => d.name === 'ml')!.data, 45, 30)).rgb, RED)).toBe(true);
  });
});

describe('hashes for finding the same photo again', () => {
  it('gives a re-encoded, resized copy a dHash within 6 bits, and a different photo one far away', async () => {
    const photo = await makePhoto({ width: 800, height: 600 });
    const copy = await sharp(photo).resize(640).jpeg({ quality: 60 }).toBuffer();
    const other = await sharp(await markedPicture(800, 600).png().toBuffer())
      .jpeg()
      .toBuffer();
    const [a, b, c] = await Promise.all([photo, copy, other].map((bytes) => processImage(bytes, optionsFor('general', 'image/jpeg'))));
    expect(hammingDistance(a!.phash, b!.phash)).toBeLessThanOrEqual(6);
    expect(hammingDistance(a!.phash, c!.phash)).toBeGreaterThan(12);
    expect(a!.sha256).not.toBe(b!.sha256);
  });

  it('gives a placeholder that decodes to the upright aspect ratio', async () => {
    const portrait = await sharp(await markedPicture(300, 200).png().toBuffer())
      .withMetadata({ orientation: 6 })
      .jpeg()
      .toBuffer();
    const result = await processImage(portrait, optionsFor('general', 'image/jpeg'));
    const ratio = thumbHashToApproximateAspectRatio(Buffer.from(result.placeholder, 'base64'));
    expect(ratio).toBeCloseTo(200 / 300, 1);
  });
});
