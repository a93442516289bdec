import sharp, { type Metadata } from 'sharp';
import { captureTime } from './exif';
import { isHevc, refuseHeifSequence } from './heic';
import { imageByteLength } from './image-extent';
import { embeddedMarkup, embeddedPdfHeader, embeddedZipDirectory, foreignFormat, judgeTrailer } from './polyglot';
import { UploadRejected } from './rejection';
import { canonicalType, sniffImageType, type SniffedType } from './sniff';

export interface ImageLimits {
  maxPixels: number;
  maxSide: number;
  /** Lower pixel limits for formats whose decoder holds the whole frame, at many bytes a pixel. */
  maxPixelsByType?: Partial<Record<AcceptedType, number>>;
}

/**
 * A decompression bomb is refused from its header: 50 MP, and no side over 16,384 px. AVIF stops
 * at 24 MP: libheif decodes the whole frame and peaks near 18 bytes a pixel (a 50 MP AVIF took
 * 1 GB), where JPEG and PNG stream and WebP and GIF hold 4–8 bytes a pixel. HEIC (the WASM
 * libheif, heic.ts) likewise holds the frame: 25 MP takes an iPhone's 24 MP (5712×4284), not more.
 */
export const DEFAULT_LIMITS: ImageLimits = {
  maxPixels: 50_000_000,
  maxSide: 16_384,
  maxPixelsByType: { 'image/avif': 24_000_000, 'image/heic': 25_000_000 },
};

export interface InspectOptions {
  /** The Content-Type the uploader declared: a claim the bytes must match. */
  declaredType: string;
  /** The purpose's accepted types. */
  allowedTypes: readonly string[];
  limits?: ImageLimits;
  /** Size the uploader declared; when given, the bytes may not be more. */
  declaredSize?: number;
  /** The purpose's byte limit; when given, the bytes may not be more. */
  maxBytes?: number;
  /** The uploader's file name; when given, its extension must name the real type. */
  filename?: string;
}

export type AcceptedType = Exclude<SniffedType, 'image/svg+xml'>;

export interface Inspection {
  type: AcceptedType;
  /** Upright dimensions (after EXIF orientation; for HEIF, after `irot`/`imir`). */
  width: number;
  height: number;
  /** EXIF orientation 1–8; a missing or invalid value counts as 1 (as stored); always 1 for HEIF (see below). */
  orientation: number;
  /**
   * Set for HEVC-coded HEIF (HEIC), whose pixels sharp cannot decode: the WASM libheif does
   * (heic.ts), and the pipeline takes the profile and alpha from here. Null for everything sharp decodes.
   */
  hevc: Pick<Metadata, 'icc' | 'hasAlpha'> | null;
  /** Frames or pages in the file; only the first is used. */
  pages: number;
  /** The image's own bytes: the input, less a harmless trailer that is cut off. */
  imageLength: number;
  trailer: { kind: string; bytes: number } | null;
  /** When the photo was taken, from EXIF DateTimeOriginal (see exif.ts), or null. */
  capturedAt: string | null;
}

/**
 * Everything decided before a pixel is decoded: is it really the declared image type, allowed
 * here, nothing else at the same time, and small enough to decode? Throws UploadRejected.
 */
export async function inspectUpload(input: Uint8Array, options: InspectOptions): Promise<Inspection> {
  const inspection = await inspectHeader(input, options);
  refuseHiddenFormats(input);
  return inspection;
}

/**
 * The checks that must pass before decoding: size, type, the image's extent and its header's
 * dimensions. What else the file might be (refuseHiddenFormats) can be decided while it decodes.
 */
export async function inspectHeader(input: Uint8Array, options: InspectOptions): Promise<Inspection> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  if (input.length === 0) throw new UploadRejected('EMPTY_FILE', 'The uploaded file is empty.');
  if (options.declaredSize !== undefined && input.length > options.declaredSize) {
    throw new UploadRejected('SIZE_MISMATCH', `The file is ${input.length} bytes, more than the ${options.declaredSize} bytes declared.`);
  }
  if (options.maxBytes !== undefined && input.length > options.maxBytes) {
    throw new UploadRejected(
      'FILE_TOO_LARGE',
      `The file is ${input.length} bytes; the limit for this purpose is ${options.maxBytes} bytes.`,
    );
  }

  const type = acceptedType(input, options);
  const { imageLength, trailer } = imageExtent(input, type);
  const meta = await readHeader(input.subarray(0, imageLength));

  const storedWidth = meta.width ?? 0;
  const storedHeight = meta.height ?? 0;
  if (storedWidth <= 0 || storedHeight <= 0) throw new UploadRejected('CORRUPT_IMAGE', 'The image has no dimensions.');
  const maxPixels = Math.min(limits.maxPixels, limits.maxPixelsByType?.[type] ?? Infinity);
  if (storedWidth > limits.maxSide || storedHeight > limits.maxSide || storedWidth * storedHeight > maxPixels) {
    throw new UploadRejected(
      'IMAGE_TOO_LARGE',
      `The image is ${storedWidth}×${storedHeight} pixels; the limit for ${type} is ${maxPixels / 1e6} megapixels and ${limits.maxSide} pixels a side.`,
    );
  }
  if (type === 'image/heic') refuseHeifSequence(input, meta);
  // HEIF turns its image with `irot`/`imir`, which libheif applies and sharp's dimensions already
  // count; iPhones write the same turn as EXIF orientation too, and applying both would turn a
  // portrait sideways. So a HEIF is upright once decoded: its EXIF orientation is never applied.
  const exifOrientation = Number.isInteger(meta.orientation) && meta.orientation! >= 1 && meta.orientation! <= 8 ? meta.orientation! : 1;
  const orientation = type === 'image/heic' ? 1 : exifOrientation;
  const turned = orientation >= 5;
  return {
    type,
    width: turned ? storedHeight : storedWidth,
    height: turned ? storedWidth : storedHeight,
    orientation,
    pages: meta.pages ?? 1,
    hevc: isHevc(meta) ? { icc: meta.icc, hasAlpha: meta.hasAlpha } : null,
    imageLength,
    trailer,
    capturedAt: captureTime(meta.exif),
  };
}

const polyglot = (what: string) => new UploadRejected('POLYGLOT', `The image also contains ${what}, so it is refused.`);

/** Refuses an image that is at the same time a page, a document or an archive (polyglot.ts). */
export function refuseHiddenFormats(input: Uint8Array): void {
  const markup = embeddedMarkup(input);
  if (markup) throw polyglot(`HTML (${markup}…)`);
  if (embeddedPdfHeader(input)) throw polyglot('a PDF document');
  if (embeddedZipDirectory(input)) throw polyglot('a ZIP archive');
}

function acceptedType(input: Uint8Array, options: InspectOptions): AcceptedType {
  const sniffed = sniffImageType(input);
  const declared = canonicalType(options.declaredType);
  if (sniffed === 'image/svg+xml') {
    throw new UploadRejected(
      'UNSUPPORTED_MEDIA_TYPE',
      'SVG images are never accepted: they can carry scripts. Upload a JPEG, PNG or WebP instead.',
    );
  }
  if (sniffed === null) {
    const foreign = foreignFormat(input);
    throw new UploadRejected(
      'UNSUPPORTED_MEDIA_TYPE',
      foreign ? `The file is ${foreign}, not an image.` : 'The file is not an image type we accept.',
    );
  }
  if (sniffed !== declared) {
    throw new UploadRejected('TYPE_MISMATCH', `The file was declared as ${declared} but its content is ${sniffed}.`);
  }
  const extension = fileExtension(options.filename);
  if (extension !== null && !EXTENSIONS[sniffed].includes(extension)) {
    // The extension only: rejection messages reach consumers' events, an uploader's file name must not.
    throw new UploadRejected('TYPE_MISMATCH', `The file's name ends in .${extension.toLowerCase()} but its content is ${sniffed}.`);
  }
  if (!options.allowedTypes.includes(sniffed)) {
    throw new UploadRejected('UNSUPPORTED_MEDIA_TYPE', `${sniffed} is not accepted for this purpose.`);
  }
  return sniffed;
}

/** The extensions each type goes by; a file name with any other extension is a wrong pair. */
const EXTENSIONS: Record<AcceptedType, readonly string[]> = {
  'image/jpeg': ['jpg', 'jpeg', 'jpe', 'jfif', 'pjpeg', 'pjp'],
  'image/png': ['png'],
  'image/gif': ['gif'],
  'image/webp': ['webp'],
  'image/avif': ['avif'],
  'image/tiff': ['tif', 'tiff'],
  'image/heic': ['heic', 'heif', 'hif'],
};

/** What follows the last dot, when it looks like an extension ("Dr. Smith" and "IMG.2024" have none). */
function fileExtension(filename: string | undefined): string | null {
  const match = /\.([a-z0-9]{1,5})$/i.exec(filename?.trim() ?? '');
  return match && !/^\d+$/.test(match[1]!) ? match[1]!.toLowerCase() : null;
}

function imageExtent(input: Uint8Array, type: AcceptedType): Pick<Inspection, 'imageLength' | 'trailer'> {
  const end = imageByteLength(input, type);
  if (end === null || end >= input.length) return { imageLength: input.length, trailer: null };
  const verdict = judgeTrailer(input.subarray(end));
  if (!verdict.harmless) throw polyglot(`${verdict.kind} after its end`);
  return { imageLength: end, trailer: { kind: verdict.kind, bytes: input.length - end } };
}

async function readHeader(image: Uint8Array): Promise<Metadata> {
  try {
    // Reads the header only: nothing is decoded, so no pixel limit is needed yet.
    return await sharp(image, { limitInputPixels: false }).metadata();
  } catch {
    throw new UploadRejected('CORRUPT_IMAGE', 'The image header could not be read; the file is damaged or not a complete image.');
  }
}
