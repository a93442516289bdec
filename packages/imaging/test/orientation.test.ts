import { describe, expect, it } from 'vitest';
import { processImage } from '@media/imaging';
import { withRawOrientation } from '../../../test/fixtures/images/bytes';
import { BLUE, markedPicture, near, pixelAt, RED, storedForOrientation } from '../../../test/fixtures/images/pictures';
import sharp from 'sharp';
import { optionsFor } from './outcomes';

// Upright: 300 wide, 200 high, red top-left, blue top-right. Stored turned or mirrored per the tag.
const upright = () => markedPicture(300, 200).png().toBuffer();

async function expectUpright(variant: { data: Buffer; width: number; height: number }, label: string) {
  expect({ width: variant.width, height: variant.height }, label).toEqual({
    width: variant.width,
    height: Math.round((variant.width * 2) / 3),
  });
  expect(variant.width, `${label}: landscape`).toBeGreaterThan(variant.height);
  expect(near((await pixelAt(variant.data, 4, 4)).rgb, RED), `${label}: red top-left`).toBe(true);
  expect(near((await pixelAt(variant.data, variant.width - 5, 4)).rgb, BLUE), `${label}: blue top-right`).toBe(true);
}

describe('every EXIF orientation lands upright', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i', async (orientation) => {
    const stored = await storedForOrientation(await upright(), orientation);
    const jpeg = await sharp(stored).withMetadata({ orientation }).jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(orientation);
    const result = await processImage(jpeg, optionsFor('general', 'image/jpeg'));
    expect(result).toMatchObject({ width: 300, height: 200 });
    for (const variant of result.derivatives.filter((d) => d.name !== 'thumb'))
      await expectUpright(variant, `${variant.name} of orientation ${orientation}`);
  });
});

describe('orientation values no camera writes', () => {
  it.each([0, 9, 255, 65_535])('treats orientation %i as "as stored", without failing', async (value) => {
    const tagged = await sharp(await upright())
      .withMetadata({ orientation: 1 })
      .jpeg()
      .toBuffer();
    const result = await processImage(withRawOrientation(tagged, value), optionsFor('general', 'image/jpeg'));
    expect(result).toMatchObject({ width: 300, height: 200 });
    await expectUpright(result.derivatives.find((d) => d.name === 'small')!, `orientation ${value}`);
  });
});
