import sharp, { type Metadata, type Sharp } from 'sharp';
import { UploadRejected } from './rejection';

/**
 * HEIC: HEVC-coded images in a HEIF container, what iPhones store by default. sharp's prebuilt
 * libvips reads the container (dimensions after `irot`, ICC, EXIF) but carries no HEVC decoder,
 * and no native download is wanted in the Lambda bundle, so the pixels come from libheif and
 * libde265 compiled to WebAssembly (`heic-decode`, LGPL-3.0, loaded from its own files on the
 * first HEIC). Everything after the decode is sharp's, as for every other format.
 */

/** What routes a HEIF to the WASM decoder: the header says HEVC (never sharp's error text). */
export const isHevc = (meta: Pick<Metadata, 'format' | 'compression'>): boolean => meta.format === 'heif' && meta.compression === 'hevc';

/**
 * A burst or a sequence (several top-level images, or a `moov` track as a Live Photo or an
 * animation carries) is refused: which of its pictures the person meant is not ours to guess.
 */
export function refuseHeifSequence(heif: Uint8Array, meta: Pick<Metadata, 'pages'>): void {
  if ((meta.pages ?? 1) > 1 || topLevelBoxes(heif).includes('moov')) {
    throw new UploadRejected(
      'IMAGE_SEQUENCE',
      'The file holds several images (a burst, an animation or a sequence); upload a single photo.',
    );
  }
}

function topLevelBoxes(b: Uint8Array): string[] {
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  const types: string[] = [];
  for (let i = 0; i + 8 <= b.length; ) {
    const size32 = view.getUint32(i);
    types.push(String.fromCharCode(b[i + 4]!, b[i + 5]!, b[i + 6]!, b[i + 7]!));
    const size = size32 === 1 && i + 16 <= b.length ? Number(view.getBigUint64(i + 8)) : size32 === 0 ? b.length - i : size32;
    if (size < 8) break;
    i += size;
  }
  return types;
}

export type HeicDecode = typeof import('heic-decode').default;
let decoder: Promise<HeicDecode> | undefined;
/**
 * Loaded on the first HEIC: compiling the 1.4 MB WASM takes 0.5–1 s, which a process that never
 * sees one should not pay. libheif comes from `libheif.wasm`, its own file (replaceable, as the
 * LGPL asks), not from the variant that carries it base64-encoded inside a script.
 */
export const heicDecoder = (): Promise<HeicDecode> =>
  (decoder ??= loadDecoder().catch((error: unknown) => {
    decoder = undefined; // the next HEIC tries again
    throw error;
  }));

async function loadDecoder(): Promise<HeicDecode> {
  const [decoders, libheif] = await Promise.all([import('heic-decode/lib.js'), import('libheif-js/libheif-wasm/libheif.js')]);
  const instance = libheif.default();
  // Compiled here, so that a missing or broken libheif.wasm fails as the service's fault, never as the file's.
  await instance.ready;
  return decoders.default(instance).one;
}

/**
 * The HEIC's primary image, upright (libheif applies `irot`, `imir` and `clap`; the EXIF
 * orientation that iPhones also write says the same turn again and is never applied), shrunk to
 * `target` on its longest side, as a sharp input that carries the file's ICC profile, so the
 * pipeline converts Display P3 to sRGB as it does for any other photo with a profile. Shrunk
 * before the profile is attached: the colour conversion then runs on the 3 MP the variants need,
 * not on all 12 (resizing in P3's numbers or in sRGB's is alike: both are gamma-encoded).
 */
export async function decodeHeic(
  decode: HeicDecode,
  heic: Buffer,
  header: Pick<Metadata, 'icc' | 'hasAlpha'>,
  target: number,
  maxPixels: number,
): Promise<Sharp> {
  const { width, height, data } = await decode({ buffer: heic });
  const shrunk = await sharp(data, { raw: { width, height, channels: 4 }, limitInputPixels: maxPixels })
    .resize({ width: target, height: target, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = sharp(rgbaTiff(shrunk.info.width, shrunk.info.height, shrunk.data, header.icc));
  // libheif hands out RGBA whatever the file; an opaque photo's constant alpha would only cost bytes downstream.
  return header.hasAlpha ? pixels : pixels.removeAlpha();
}

const ROWS_PER_STRIP = 64;

/**
 * Decoded RGBA pixels in an uncompressed TIFF with the ICC profile beside them: the one input
 * sharp takes raw pixels and a profile in (its raw input has no profile, and `withIccProfile`
 * names the output's). Strips of 64 rows, so libvips reads it a few rows at a time.
 */
export function rgbaTiff(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray, icc: Uint8Array | undefined): Buffer {
  const strips = Math.ceil(height / ROWS_PER_STRIP);
  const stripBytes = (s: number) => width * 4 * Math.min(ROWS_PER_STRIP, height - s * ROWS_PER_STRIP);
  const entries: [tag: number, type: 3 | 4 | 7, count: number, value: number | 'bits' | 'offsets' | 'counts' | 'icc'][] = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 4, 'bits'],
    [259, 3, 1, 1], // no compression
    [262, 3, 1, 2], // RGB
    [273, 4, strips, 'offsets'],
    [277, 3, 1, 4],
    [278, 4, 1, ROWS_PER_STRIP],
    [279, 4, strips, 'counts'],
    [284, 3, 1, 1], // interleaved
    [338, 3, 1, 2], // the fourth sample is unassociated alpha
    ...(icc?.length ? [[34675, 7, icc.length, 'icc'] as [number, 7, number, 'icc']] : []),
  ];
  const ifdAt = 8;
  const ifdSize = 2 + entries.length * 12 + 4;
  const bitsAt = ifdAt + ifdSize;
  const offsetsAt = bitsAt + 8;
  const countsAt = offsetsAt + 4 * strips;
  const iccAt = countsAt + 4 * strips;
  const pixelsAt = iccAt + (icc?.length ?? 0);
  const head = Buffer.alloc(pixelsAt);
  head.write('II', 0, 'latin1');
  head.writeUInt16LE(42, 2);
  head.writeUInt32LE(ifdAt, 4);
  head.writeUInt16LE(entries.length, ifdAt);
  entries.forEach(([tag, type, count, value], n) => {
    const at = ifdAt + 2 + n * 12;
    head.writeUInt16LE(tag, at);
    head.writeUInt16LE(type, at + 2);
    head.writeUInt32LE(count, at + 4);
    const where = { bits: bitsAt, offsets: offsetsAt, counts: countsAt, icc: iccAt };
    if (typeof value !== 'number') {
      // A single strip's offset or count fits in the entry itself; an array lies elsewhere.
      head.writeUInt32LE(
        strips === 1 && value === 'offsets' ? pixelsAt : strips === 1 && value === 'counts' ? stripBytes(0) : where[value],
        at + 8,
      );
    } else if (type === 3) head.writeUInt16LE(value, at + 8);
    else head.writeUInt32LE(value, at + 8);
  });
  for (let s = 0; s < 4; s++) head.writeUInt16LE(8, bitsAt + 2 * s);
  for (let s = 0; s < strips; s++) {
    head.writeUInt32LE(pixelsAt + s * ROWS_PER_STRIP * width * 4, offsetsAt + 4 * s);
    head.writeUInt32LE(stripBytes(s), countsAt + 4 * s);
  }
  if (icc?.length) head.set(icc, iccAt);
  return Buffer.concat([head, new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.byteLength)]);
}
