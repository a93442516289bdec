import sharp, { type Sharp } from 'sharp';

/** Decoded pixels, row-major, interleaved channels (8 bits each). */
export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** The image upright (EXIF orientation applied), as 8-bit RGB. */
export async function decodeUpright(input: Buffer, maxPixels: number): Promise<RawImage> {
  const { data, info } = await sharp(input, { limitInputPixels: maxPixels })
    .rotate()
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * The upright image no longer than `side` on its longest side, decoded small (JPEG and WebP
 * shrink on load): the copy the detector sees, without decoding every pixel of a 12 MP photo first.
 */
export async function decodeUprightWithin(input: Buffer, side: number, maxPixels: number): Promise<RawImage> {
  const { data, info } = await sharp(input, { limitInputPixels: maxPixels })
    .rotate()
    .resize(side, side, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export function rawSharp(image: RawImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
}

export async function toRaw(pipeline: Sharp): Promise<RawImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}
