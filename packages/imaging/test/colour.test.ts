import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { DerivativeSpec } from '@media/core';
import { processImage } from '@media/imaging';
import { FIELD, markedPicture, near, pixelAt, RED } from '../../../test/fixtures/images/pictures';
import { optionsFor } from './outcomes';

/** Every derivative is 8-bit sRGB with 3 channels, or 4 where the input had alpha and the format keeps it. */
async function expectPlainSrgb(derivatives: { name: string; data: Buffer }[]) {
  for (const d of derivatives) {
    const meta = await sharp(d.data).metadata();
    expect(meta.space, d.name).toBe('srgb');
    expect(meta.depth, d.name).toBe('uchar');
    expect(meta.icc, d.name).toBeUndefined();
  }
}

describe('unusual colour arrives as plain sRGB', () => {
  it('converts a CMYK JPEG, red staying red', async () => {
    const cmyk = await markedPicture(300, 200).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const result = await processImage(cmyk, optionsFor('general', 'image/jpeg'));
    await expectPlainSrgb(result.derivatives);
    const small = result.derivatives.find((d) => d.name === 'small')!;
    expect(near((await pixelAt(small.data, 4, 4)).rgb, RED, 40)).toBe(true);
  });

  it('reduces a 16-bit PNG to 8 bits', async () => {
    const deep = await markedPicture(300, 200).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    const result = await processImage(deep, optionsFor('general', 'image/png'));
    await expectPlainSrgb(result.derivatives);
    expect(near((await pixelAt(result.derivatives.find((d) => d.name === 'small')!.data, 4, 4)).rgb, RED)).toBe(true);
  });

  it('turns greyscale with alpha into sRGB with alpha', async () => {
    const greyAlpha = await markedPicture(300, 200, { alpha: true }).toColourspace('b-w').png().toBuffer();
    expect((await sharp(greyAlpha).metadata()).channels).toBe(2);
    const result = await processImage(greyAlpha, optionsFor('general', 'image/png'));
    await expectPlainSrgb(result.derivatives);
    const small = result.derivatives.find((d) => d.name === 'small')!;
    expect((await sharp(small.data).metadata()).hasAlpha).toBe(true);
    expect((await pixelAt(small.data, 2, small.height - 3)).alpha).toBeLessThan(10);
  });

  it('expands a palette PNG', async () => {
    const palette = await markedPicture(300, 200).png({ palette: true, colours: 16 }).toBuffer();
    expect((await sharp(palette).metadata()).isPalette).toBe(true);
    const result = await processImage(palette, optionsFor('general', 'image/png'));
    await expectPlainSrgb(result.derivatives);
    expect(near((await pixelAt(result.derivatives.find((d) => d.name === 'small')!.data, 4, 4)).rgb, RED)).toBe(true);
  });

  it('converts a Display P3 photo to sRGB through its profile, not by reinterpreting its numbers', async () => {
    const srgb = [200, 90, 40] as const;
    const p3 = await sharp({ create: { width: 200, height: 150, channels: 3, background: { r: srgb[0], g: srgb[1], b: srgb[2] } } })
      .withIccProfile('p3')
      .jpeg({ quality: 95 })
      .toBuffer();
    const storedNumbers = (await pixelAt(await sharp(p3, { ignoreIcc: true }).png().toBuffer(), 10, 10)).rgb;
    expect(near(storedNumbers, srgb, 8), 'the P3 numbers differ from the sRGB ones').toBe(false);
    const result = await processImage(p3, optionsFor('general', 'image/jpeg'));
    await expectPlainSrgb(result.derivatives);
    expect((await pixelAt(result.derivatives.find((d) => d.name === 'small')!.data, 10, 10)).rgb).toSatisfy((rgb: number[]) =>
      near(rgb, srgb, 6),
    );
  });
});

describe('transparency', () => {
  const avifToo: DerivativeSpec[] = [
    { name: 'thumb', size: 256, fit: 'cover', format: 'webp' },
    { name: 'small', size: 480, fit: 'inside', format: 'avif' },
    { name: 'medium', size: 1280, fit: 'inside', format: 'webp' },
    { name: 'ml', size: 640, fit: 'inside', format: 'jpeg' },
  ];

  it('keeps alpha in WebP and AVIF variants and flattens the ml JPEG on white', async () => {
    const png = await markedPicture(300, 200, { alpha: true }).png().toBuffer();
    const result = await processImage(png, { ...optionsFor('general', 'image/png'), derivatives: avifToo });
    const byName = Object.fromEntries(result.derivatives.map((d) => [d.name, d]));
    for (const name of ['medium', 'small']) {
      const variant = byName[name]!;
      expect((await sharp(variant.data).metadata()).hasAlpha, name).toBe(true);
      expect((await pixelAt(variant.data, 2, variant.height - 3)).alpha, `${name}: transparent corner`).toBeLessThan(10);
      expect((await pixelAt(variant.data, variant.width / 2, variant.height / 2)).alpha, `${name}: opaque middle`).toBeGreaterThan(245);
    }
    expect((await sharp(byName.small!.data).metadata()).format).toBe('heif');
    const ml = byName.ml!;
    expect((await sharp(ml.data).metadata()).hasAlpha).toBe(false);
    expect(near((await pixelAt(ml.data, 2, ml.height - 3)).rgb, [255, 255, 255], 6), 'white where it was transparent').toBe(true);
    expect(near((await pixelAt(ml.data, ml.width / 2, ml.height / 2)).rgb, FIELD), 'the picture where it was opaque').toBe(true);
  });
});
