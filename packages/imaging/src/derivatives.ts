import { availableParallelism } from 'node:os';
import sharp, { type Sharp } from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import type { DerivativeSpec } from '@media/core';
import { FORMAT_CONTENT_TYPES } from '@media/core';
import { ENCODE_COST, ENCODERS } from './encoders';
import { differenceHash, sha256Hex } from './hashes';
import { decodeHeic, heicDecoder } from './heic';
import { DEFAULT_LIMITS, inspectHeader, refuseHiddenFormats, type AcceptedType, type Inspection, type InspectOptions } from './inspection';
import { removeMetadata, type RemovalMethod } from './metadata-removal';
import { fromPixels, PixelLadder, toPixels, type Pixels } from './pixel-ladder';
import { UploadRejected } from './rejection';
import { runLongestFirst, type Job } from './work-queue';

// libvips' operation cache only pays off when the same operation runs twice on the same input;
// here every input is new, and the cache would keep up to 50 MB of old pixels alive.
sharp.cache(false);

export interface ProcessOptions extends InspectOptions {
  derivatives: readonly DerivativeSpec[];
  /** Encodes running at once; defaults to the machine's cores. */
  parallelism?: number;
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
  contentType: AcceptedType;
  /** Upright dimensions of the original (after EXIF orientation). */
  width: number;
  height: number;
  /** Of the bytes as uploaded (what a client can compute before uploading), not of `original`. */
  sha256: string;
  /** When the photo was taken (EXIF DateTimeOriginal, with its UTC offset when the file gives one), or null. */
  capturedAt: string | null;
  /** 64-bit difference hash, 16 hex digits: near-duplicates differ in a few bits. */
  phash: string;
  /** ThumbHash, base64: a ~25-byte blurred preview to show while the real image loads. */
  placeholder: string;
  derivatives: Derivative[];
  /**
   * The bytes to keep as the original: the upload without its metadata (metadata-removal.ts) and
   * less a harmless trailer (a motion photo's video, a camera's extra data) that was cut off.
   */
  original: Buffer;
  /** How the metadata left the original: container blocks removed, or the image written anew. */
  originalMethod: RemovalMethod;
  /** What was cut off after the image's end, if anything. */
  trailer: { kind: string; bytes: number } | null;
}

/**
 * Checks what the bytes really are (see inspection.ts), then decodes once: shrunk on load to the
 * size the largest variant needs, sRGB, upright. Every variant, the perceptual hash and the
 * placeholder come from those pixels, the longest encodes first, one per core. sharp writes no
 * metadata unless asked, so EXIF (GPS included), XMP, IPTC, ICC and comments never reach a
 * derivative; the original keeps its pixels, its ICC profile and its orientation, and nothing else
 * (see `original`). The capture time is read from the EXIF before it goes.
 */
export async function processImage(input: Buffer, options: ProcessOptions): Promise<ProcessedImage> {
  const inspection = await inspectHeader(input, options);
  const image = inspection.imageLength === input.length ? input : input.subarray(0, inspection.imageLength);
  const maxPixels = (options.limits ?? DEFAULT_LIMITS).maxPixels;
  const decoding = decodeOnce(image, inspection, decodeSize(inspection, options.derivatives), maxPixels);
  // While a libuv thread decodes, this thread scans the bytes; a polyglot still never gets a derivative.
  try {
    refuseHiddenFormats(input);
  } catch (error) {
    await decoding.catch(() => undefined);
    throw error;
  }
  const sha256 = sha256Hex(input);
  const base = await decoding;

  const ladder = new PixelLadder(
    base,
    options.derivatives.filter((d) => d.fit === 'inside').map((d) => d.size),
  );
  const variantJobs = options.derivatives.map((spec): Job<Derivative> => {
    const [width, height] = outputSize(base.raw, spec);
    const source = spec.fit === 'cover' ? ladder.covering(spec.size) : ladder.fitting(spec.size);
    return { cost: width * height * ENCODE_COST[spec.format], run: async () => encodeVariant(await source, spec) };
  });
  const [derivatives, hashes] = await Promise.all([
    runLongestFirst(variantJobs, options.parallelism ?? availableParallelism()),
    // Tiny (a 9×8 and a 100×100 resize of a small rung): it fits in the gaps, no lane needed.
    ladder.covering(100).then(perceptualHashes),
  ]);
  // Afterwards, not alongside: a container walk takes milliseconds, and an AVIF or TIFF written
  // anew decodes the whole image once more, which must not add to the decode above in memory.
  const original = await cleanOriginal(image, inspection, maxPixels);

  return {
    contentType: inspection.type,
    width: inspection.width,
    height: inspection.height,
    sha256,
    capturedAt: inspection.capturedAt,
    ...hashes,
    derivatives,
    original: original.data,
    originalMethod: original.method,
    trailer: inspection.trailer,
  };
}

async function cleanOriginal(image: Buffer, inspection: Inspection, maxPixels: number) {
  try {
    return await removeMetadata(image, inspection.type, inspection.orientation, maxPixels);
  } catch (error) {
    if (error instanceof UploadRejected) throw error;
    throw new UploadRejected('CORRUPT_IMAGE', 'The image could not be decoded; it is truncated or damaged.');
  }
}

/**
 * The longest side the one decode must keep: the largest `inside` variant, or what the square
 * thumb needs on the short side, never more than the image has. At most 2048 × 2048 or 256 ×
 * 16,384 pixels (4.2 MP) with the standard variants, whatever the input.
 */
function decodeSize(image: { width: number; height: number }, specs: readonly DerivativeSpec[]): number {
  const longest = Math.max(image.width, image.height);
  const shortest = Math.min(image.width, image.height);
  const needed = Math.max(64, ...specs.map((d) => (d.fit === 'cover' ? Math.ceil((d.size * longest) / shortest) : d.size)));
  return Math.min(longest, needed);
}

/**
 * Decodes the first frame or page, shrinking on load (JPEG and WebP decode straight at a
 * fraction of their size), to 8-bit sRGB at `target` on the longest side, and turns it upright
 * afterwards: rotating the small result instead of the full image lets the loaders stream and
 * keeps memory to a few lines of the input plus the result. A HEIC's pixels come from the WASM
 * libheif, already upright, with its profile for the sRGB conversion (heic.ts).
 */
async function decodeOnce(image: Buffer, inspection: Inspection, target: number, maxPixels: number): Promise<Pixels> {
  const { orientation } = inspection;
  // Outside the try: a decoder that fails to load is the service's fault (retried), not the file's.
  const heic = inspection.hevc ? await heicDecoder() : null;
  try {
    const input =
      heic && inspection.hevc
        ? await decodeHeic(heic, image, inspection.hevc, target, maxPixels)
        : sharp(image, { failOn: 'error', limitInputPixels: maxPixels, animated: false });
    const stored = await input
      .resize({ width: target, height: target, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const pixels: Pixels = {
      data: stored.data,
      raw: { width: stored.info.width, height: stored.info.height, channels: stored.info.channels },
    };
    return orientation === 1 ? pixels : await toPixels(orient(fromPixels(pixels), orientation));
  } catch (error) {
    if (error instanceof UploadRejected) throw error;
    throw new UploadRejected('CORRUPT_IMAGE', 'The image could not be decoded; it is truncated or damaged.');
  }
}

/** EXIF orientation as operations on the stored pixels (sharp mirrors before it rotates). */
function orient(image: Sharp, orientation: number): Sharp {
  switch (orientation) {
    case 2:
      return image.flop();
    case 3:
      return image.rotate(180);
    case 4:
      return image.flip();
    case 5:
      return image.flip().rotate(90);
    case 6:
      return image.rotate(90);
    case 7:
      return image.flop().rotate(90);
    case 8:
      return image.rotate(270);
    default:
      return image;
  }
}

function outputSize(raw: Pixels['raw'], spec: DerivativeSpec): [number, number] {
  if (spec.fit === 'cover') return [spec.size, spec.size];
  const scale = Math.min(1, spec.size / Math.max(raw.width, raw.height));
  return [Math.round(raw.width * scale), Math.round(raw.height * scale)];
}

/**
 * A variant's size and fit. The thumb is always square, so grids line up (a tiny image is
 * enlarged, attention-cropped so faces stay in frame); the others are never enlarged.
 */
export function variantGeometry(image: Sharp, spec: DerivativeSpec): Sharp {
  const resized = image.resize(
    spec.fit === 'cover'
      ? { width: spec.size, height: spec.size, fit: 'cover', position: sharp.strategy.attention }
      : { width: spec.size, height: spec.size, fit: 'inside', withoutEnlargement: true },
  );
  // JPEG has no alpha: flatten on white, as a page would show it, not on black.
  return spec.format === 'jpeg' ? resized.flatten({ background: '#ffffff' }) : resized;
}

async function encodeVariant(source: Pixels, spec: DerivativeSpec): Promise<Derivative> {
  const image = variantGeometry(fromPixels(source), spec);
  const { data, info } = await ENCODERS[spec.format](image).toBuffer({ resolveWithObject: true });
  return {
    name: spec.name,
    format: spec.format,
    contentType: FORMAT_CONTENT_TYPES[spec.format],
    width: info.width,
    height: info.height,
    data,
  };
}

async function perceptualHashes(pixels: Pixels): Promise<{ phash: string; placeholder: string }> {
  const [grey, small] = await Promise.all([
    fromPixels(pixels).flatten({ background: '#ffffff' }).resize(9, 8, { fit: 'fill' }).toColourspace('b-w').raw().toBuffer(),
    fromPixels(pixels).resize(100, 100, { fit: 'inside' }).ensureAlpha().raw().toBuffer({ resolveWithObject: true }),
  ]);
  return {
    phash: differenceHash(new Uint8Array(grey.buffer, grey.byteOffset, 72)),
    placeholder: Buffer.from(rgbaToThumbHash(small.info.width, small.info.height, small.data)).toString('base64'),
  };
}
