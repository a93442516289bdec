import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { DerivativeSpec } from '@media/core';
import { FORMAT_CONTENT_TYPES } from '@media/core';
import { differenceHash, sha256Hex } from './hashes';
import { UploadRejected } from './rejection';
import { canonicalType, sniffImageType } from './sniff';

export interface ImageLimits {
  maxPixels: number;
  maxSide: number;
}

export const DEFAULT_LIMITS: ImageLimits = { maxPixels: 50_000_000, maxSide: 16_384 };

export interface ProcessOptions {
  declaredType: string;
  allowedTypes: readonly string[];
  derivatives: readonly DerivativeSpec[];
  limits?: ImageLimits;
}

export interface Derivative {
  name: DerivativeSpec['name'];
  format: DerivativeSpec['format'];
  contentType: string;
  width: number;
  height: number;
  data: Buffer;
}

export interface ProcessedImage {
  contentType: string;
  /** Upright dimensions of the original (after EXIF orientation). */
  width: number;
  height: number;
  sha256: string;
  phash: string;
  placeholder: string;
  derivatives: Derivative[];
}

/** Encoder settings chosen for photos: visually clean, and fast enough for the processor's budget. */
const ENCODERS = {
  webp: (image: Sharp) => image.webp({ quality: 80, effort: 4 }),
  avif: (image: Sharp) => image.avif({ quality: 50, effort: 2 }),
  jpeg: (image: Sharp) => image.jpeg({ quality: 90, mozjpeg: false, chromaSubsampling: '4:4:4' }),
} as const;

/**
 * Checks what the bytes really are, then decodes once (auto-oriented, sRGB, shrunk on load to the
 * largest size any variant needs) and derives every variant from those pixels. sharp writes no
 * metadata unless asked, so EXIF (GPS included), XMP, IPTC and comments never reach a derivative.
 */
export async function processImage(input: Buffer, options: ProcessOptions): Promise<ProcessedImage> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (input.length === 0) throw new UploadRejected('EMPTY_FILE', 'The uploaded file is empty.');

  const sniffed = sniffImageType(input);
  const declared = canonicalType(options.declaredType);
  if (sniffed === 'image/heic') {
    throw new UploadRejected('UNSUPPORTED_CODEC', 'HEIC/HEIF photos cannot be processed; please export the photo as JPEG and upload it again.');
  }
  if (sniffed === null || sniffed === 'image/svg+xml') {
    throw new UploadRejected('UNSUPPORTED_MEDIA_TYPE', 'The file is not an image type we accept.');
  }
  if (sniffed !== declared) {
    throw new UploadRejected('TYPE_MISMATCH', `The file was declared as ${declared} but its content is ${sniffed}.`);
  }
  if (!options.allowedTypes.includes(sniffed)) {
    throw new UploadRejected('UNSUPPORTED_MEDIA_TYPE', `${sniffed} is not accepted for this purpose.`);
  }

  // Header only: refuse pixel floods before a single pixel is decoded.
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch {
    throw new UploadRejected('CORRUPT_IMAGE', 'The image header could not be read.');
  }
  const rawWidth = meta.width ?? 0;
  const rawHeight = meta.height ?? 0;
  if (rawWidth <= 0 || rawHeight <= 0) throw new UploadRejected('CORRUPT_IMAGE', 'The image has no dimensions.');
  if (rawWidth > limits.maxSide || rawHeight > limits.maxSide || rawWidth * rawHeight > limits.maxPixels) {
    throw new UploadRejected(
      'IMAGE_TOO_LARGE',
      `The image is ${rawWidth}×${rawHeight}; the limit is ${limits.maxPixels / 1e6} megapixels and ${limits.maxSide} px a side.`,
    );
  }
  const rotated = (meta.orientation ?? 1) >= 5;
  const width = rotated ? rawHeight : rawWidth;
  const height = rotated ? rawWidth : rawHeight;

  // The one decode: large enough for the largest variant, and for the thumb's short side.
  const longest = Math.max(width, height);
  const shortest = Math.min(width, height);
  const needed = Math.max(
    ...options.derivatives.map((d) => (d.fit === 'cover' ? Math.ceil((d.size * longest) / shortest) : d.size)),
    64,
  );
  const target = Math.min(longest, needed);
  let base: { data: Buffer; info: OutputInfo };
  try {
    base = await sharp(input, { failOn: 'truncated', limitInputPixels: limits.maxPixels, animated: false })
      .autoOrient()
      .resize({ width: target, height: target, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch {
    throw new UploadRejected('CORRUPT_IMAGE', 'The image could not be decoded; it may be truncated or damaged.');
  }
  const raw = { width: base.info.width, height: base.info.height, channels: base.info.channels };
  const fromPixels = () => sharp(base.data, { raw });

  const derivatives = await Promise.all(
    options.derivatives.map(async (spec): Promise<Derivative> => {
      let image = fromPixels().resize(
        spec.fit === 'cover'
          ? { width: spec.size, height: spec.size, fit: 'cover', position: sharp.strategy.attention, withoutEnlargement: false }
          : { width: spec.size, height: spec.size, fit: 'inside', withoutEnlargement: true },
      );
      if (spec.format === 'jpeg') image = image.flatten({ background: '#ffffff' });
      const { data, info } = await ENCODERS[spec.format](image).toBuffer({ resolveWithObject: true });
      return {
        name: spec.name,
        format: spec.format,
        contentType: FORMAT_CONTENT_TYPES[spec.format],
        width: info.width,
        height: info.height,
        data,
      };
    }),
  );

  const [grey, small] = await Promise.all([
    fromPixels().resize(9, 8, { fit: 'fill' }).removeAlpha().toColourspace('b-w').raw().toBuffer(),
    fromPixels().resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true }),
  ]);
  const placeholder = Buffer.from(rgbaToThumbHash(small.info.width, small.info.height, small.data)).toString('base64');

  return {
    contentType: sniffed,
    width,
    height,
    sha256: sha256Hex(input),
    phash: differenceHash(new Uint8Array(grey.buffer, grey.byteOffset, 72)),
    placeholder,
    derivatives,
  };
}
