import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '@media/imaging';
import { blankPng, withAvifSize, withGifSize, withJpegSize, withPngSize } from '../../../test/fixtures/images/bytes';
import { markedPicture, multiFrame } from '../../../test/fixtures/images/pictures';
import { optionsFor, outcomeOf } from './outcomes';

describe('pixel floods are refused from the header, before decoding', () => {
  it('refuses a real 100-megapixel PNG of a few kilobytes as IMAGE_TOO_LARGE', async () => {
    const bomb = blankPng(10_000, 10_000);
    expect(bomb.length).toBeLessThan(100_000);
    expect(await sharp(bomb).metadata()).toMatchObject({ format: 'png', width: 10_000, height: 10_000 });
    const outcome = await outcomeOf(bomb, optionsFor('general', 'image/png'));
    expect(outcome.code).toBe('IMAGE_TOO_LARGE');
    expect(outcome.detail).toContain('10000×10000');
  });

  it('refuses a header just over 50 megapixels, and a side over 16,384 px however few pixels', async () => {
    const png = await markedPicture(64, 64).png().toBuffer();
    expect((await outcomeOf(withPngSize(png, 7072, 7072), optionsFor('general', 'image/png'))).code).toBe('IMAGE_TOO_LARGE'); // 50.01 MP
    const jpeg = await markedPicture(64, 64).jpeg().toBuffer();
    expect((await outcomeOf(withJpegSize(jpeg, 16_385, 100), optionsFor('general', 'image/jpeg'))).code).toBe('IMAGE_TOO_LARGE');
  });

  it('refuses an AVIF over 24 megapixels, the limit for a format decoded whole', async () => {
    const avif = await markedPicture(64, 64).avif({ effort: 0 }).toBuffer();
    const outcome = await outcomeOf(withAvifSize(avif, 6000, 4001), optionsFor('general', 'image/avif'));
    expect(outcome.code).toBe('IMAGE_TOO_LARGE');
    expect(outcome.detail).toContain('image/avif is 24 megapixels');
  });

  it('refuses a GIF whose first frame claims 20,000 × 20,000', async () => {
    const gif = withGifSize(await multiFrame('gif', [[200, 0, 0]], 8, 8), 20_000, 20_000, { frameToo: true });
    expect((await outcomeOf(gif, optionsFor('general', 'image/gif'))).code).toBe('IMAGE_TOO_LARGE');
  });

  it('decodes a GIF whose logical screen is huge around a tiny frame at the frame size: the screen is never allocated', async () => {
    const gif = withGifSize(await multiFrame('gif', [[200, 0, 0]], 8, 8), 65_535, 65_535, { frameToo: false });
    const result = await processImage(gif, optionsFor('general', 'image/gif'));
    expect(result).toMatchObject({ width: 8, height: 8 });
  });

  it('refuses a header that passes the limits but lies about the data as CORRUPT_IMAGE', async () => {
    // Claims 4000×4000 (16 MP, allowed) over 64×64 of data: decoding runs dry, nothing is produced.
    const png = await markedPicture(64, 64).png().toBuffer();
    expect((await outcomeOf(withPngSize(png, 4000, 4000), optionsFor('general', 'image/png'))).code).toBe('CORRUPT_IMAGE');
  });
});

describe('truncated and corrupt files are CORRUPT_IMAGE, never a crash', () => {
  const formats = [
    ['JPEG', 'image/jpeg', () => markedPicture(300, 200).jpeg().toBuffer()],
    ['PNG', 'image/png', () => markedPicture(300, 200).png().toBuffer()],
    ['WebP', 'image/webp', () => markedPicture(300, 200).webp().toBuffer()],
    ['GIF', 'image/gif', () => markedPicture(300, 200).gif().toBuffer()],
    ['AVIF', 'image/avif', () => markedPicture(300, 200).avif({ effort: 0 }).toBuffer()],
  ] as const;

  it.each(formats)('rejects a %s cut in half', async (_, type, make) => {
    const whole = await make();
    expect((await outcomeOf(whole.subarray(0, Math.floor(whole.length / 2)), optionsFor('general', type))).code).toBe('CORRUPT_IMAGE');
  });

  it.each(formats)('rejects a %s cut right after its signature', async (_, type, make) => {
    const whole = await make();
    expect((await outcomeOf(whole.subarray(0, 16), optionsFor('general', type))).code).toBe('CORRUPT_IMAGE');
  });

  it('rejects a PNG whose image data fails its CRC', async () => {
    const png = Buffer.from(await markedPicture(300, 200).png().toBuffer());
    const idat = png.indexOf('IDAT') - 4;
    const crcAt = idat + 8 + png.readUInt32BE(idat);
    png[crcAt] = png[crcAt]! ^ 0x01;
    expect((await outcomeOf(png, optionsFor('general', 'image/png'))).code).toBe('CORRUPT_IMAGE');
  });

  it('rejects a PNG whose compressed data is damaged', async () => {
    const png = Buffer.from(await markedPicture(300, 200).png().toBuffer());
    const idat = png.indexOf('IDAT');
    for (let i = idat + 20; i < idat + 60; i++) png[i] = 0xa5;
    expect((await outcomeOf(png, optionsFor('general', 'image/png'))).code).toBe('CORRUPT_IMAGE');
  });

  it('rejects a JPEG whose frame header is destroyed', async () => {
    const jpeg = Buffer.from(await markedPicture(300, 200).jpeg().toBuffer());
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    jpeg.fill(0, sof + 4, sof + 12);
    expect((await outcomeOf(jpeg, optionsFor('general', 'image/jpeg'))).code).toBe('CORRUPT_IMAGE');
  });
});
