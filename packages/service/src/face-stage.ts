import type { Config } from '@media/core';
import type { FaceRepository, FaceVariant, MediaRepository, MediaRow, RightsRepository, StoredFace } from '@media/db';
import {
  alignFace,
  blurFaces,
  DEFAULT_DETECTION,
  decodeUpright,
  decodeUprightWithin,
  detectFaces,
  type FaceModelFiles,
  installedModelFiles,
  type RawImage,
  rawSharp,
} from '@media/faces';
import { derivativeKey, type MediaStorage } from '@media/storage';
import { recognitionAllowed } from './face-consent';
import type { FaceJob } from './face-queue';
import { derivativeCacheControl } from './processed-item';

/** The longest side of the `blurred` variant: the `large` display variant's. */
const BLURRED_SIDE = 2048;

/** Validated originals are bounded by the purposes' pixel limits already; this only stops a surprise. */
const MAX_PIXELS = 100_000_000;

export type FaceStageOutcome =
  | { outcome: 'done'; mediaId: string; faces: number; crops: number }
  | { outcome: 'failed'; mediaId: string }
  | { outcome: 'ignored'; mediaId: string; reason: string };

/** Raised when another worker holds the item's lease: the message comes back later. */
export class FaceStageBusy extends Error {
  override readonly name = 'FaceStageBusy';
}

export interface FaceStageDeps {
  config: Pick<Config, 'processing' | 'faces'>;
  media: Pick<MediaRepository, 'findById'>;
  faces: Pick<FaceRepository, 'claim' | 'complete' | 'fail' | 'release' | 'find' | 'recognitionForAttendance'>;
  rights: Pick<RightsRepository, 'consentsOf'>;
  storage: Pick<MediaStorage, 'getBytes' | 'put' | 'deleteMany'>;
}

/** Where the model files are: the bundle's copies when configured, else the installed packages. */
export function faceModelFiles(config: Pick<Config, 'faces'>): FaceModelFiles {
  const installed = config.faces.modelDir && config.faces.wasmDir ? undefined : installedModelFiles();
  return {
    modelDir: config.faces.modelDir ?? installed!.modelDir,
    wasmDir: config.faces.wasmDir ?? installed!.wasmDir,
  };
}

/**
 * The face stage for one ready item (docs/imaging.md § Faces): detect the faces of the upright
 * image on a downscaled copy, write `blurred` (every face unrecognisable) and, only where consent
 * allows, the aligned crops `faces/N`, then record faces and variants. Idempotent and bounded like
 * processing: a lease per item, an attempt counted per claim, `failed` after the last; every object
 * goes to a deterministic key; a delete that lands meanwhile wins, and what was written goes.
 */
export async function runFaceStage(deps: FaceStageDeps, job: FaceJob, files: FaceModelFiles): Promise<FaceStageOutcome> {
  const { mediaId } = job;
  const row = await deps.media.findById(mediaId);
  if (!row || row.tenant !== job.tenant) return { outcome: 'ignored', mediaId, reason: 'unknown-media' };
  if (row.status !== 'ready') return { outcome: 'ignored', mediaId, reason: `media-${row.status}` };
  const source = sourceKey(row);
  if (!source) return { outcome: 'ignored', mediaId, reason: 'no-image' };

  const claimed = await deps.faces.claim(row.tenant, mediaId, deps.config.processing.leaseSeconds);
  if (!claimed) {
    const now = await deps.faces.find(mediaId);
    if (now?.status === 'pending') throw new FaceStageBusy(`faces of ${mediaId} are being detected elsewhere`);
    return { outcome: 'ignored', mediaId, reason: `faces-${now?.status ?? 'unknown'}` };
  }
  if (claimed.attempts > deps.config.processing.maxAttempts) {
    await deps.faces.fail(mediaId);
    return { outcome: 'failed', mediaId };
  }
  const written: string[] = [];
  try {
    const bytes = await deps.storage.getBytes(source);
    if (!bytes) throw new Error(`the image of ${mediaId} is missing from ${source}`);
    // The full image (for crops and `blurred`) decodes on sharp's threads while the detector runs
    // on this one, on a copy decoded small.
    const full = decodeUpright(bytes, MAX_PIXELS);
    full.catch(() => {});
    const small = await decodeUprightWithin(bytes, DEFAULT_DETECTION.detectionSide, MAX_PIXELS);
    const found = await detectFaces(small, files, DEFAULT_DETECTION);
    const image = await full;
    const faces: StoredFace[] = found.map(({ box, landmarks, score, quality }) => ({ box, landmarks, score, quality }));

    const variants: FaceVariant[] = [];
    // The headers every derivative gets (a crop or `blurred` never changes under its key).
    const cacheControl = derivativeCacheControl(row);
    const blurred = await encodeBlurred(await blurFaces(image, found));
    const blurredKey = derivativeKey(row.tenant, mediaId, 'blurred', 'webp');
    await deps.storage.put(blurredKey, blurred.data, 'image/webp', undefined, undefined, cacheControl);
    written.push(blurredKey);
    variants.push({
      name: 'blurred',
      format: 'webp',
      width: blurred.width,
      height: blurred.height,
      size: blurred.data.length,
      key: blurredKey,
      contentType: 'image/webp',
    });

    // Consent is read now, after the slow part: a withdrawal that came during detection applies.
    const allowed = recognitionAllowed(
      row,
      await deps.rights.consentsOf(row.tenant, row.subjectIds),
      row.purpose === 'attendance' && (await deps.faces.recognitionForAttendance(row.tenant)),
    );
    if (allowed) {
      const size = deps.config.faces.cropSize;
      for (const [n, face] of found.entries()) {
        const landmarks = face.landmarks.map((p) => ({ x: p.x * image.width, y: p.y * image.height }));
        const crop = await rawSharp(await alignFace(image, landmarks, size))
          .jpeg({ quality: 95 })
          .toBuffer();
        // The variant is `faces/N`; a key segment holds no slash.
        const key = derivativeKey(row.tenant, mediaId, `faces-${n}`, 'jpeg');
        await deps.storage.put(key, crop, 'image/jpeg', undefined, undefined, cacheControl);
        written.push(key);
        variants.push({ name: `faces/${n}`, format: 'jpeg', width: size, height: size, size: crop.length, key, contentType: 'image/jpeg' });
      }
    }

    const done = await deps.faces.complete(mediaId, faces, variants);
    if (!done) {
      // Deleted (or erased) while we worked: the delete's purge may have run before these landed.
      await deps.storage.deleteMany(written);
      return { outcome: 'ignored', mediaId, reason: 'media-gone' };
    }
    return { outcome: 'done', mediaId, faces: faces.length, crops: variants.length - 1 };
  } catch (error) {
    await deps.faces.release(mediaId);
    throw error;
  }
}

/** The image the stage reads: a photo's validated original, a video's poster (its largest image variant). */
function sourceKey(row: MediaRow): string | null {
  if (row.kind === 'image') return row.originalKey;
  const images = (row.variants ?? []).filter((v) => v.name !== 'original' && v.name !== 'ml');
  images.sort((a, b) => b.width * b.height - a.width * a.height);
  return images[0]?.key ?? null;
}

async function encodeBlurred(image: RawImage): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await rawSharp(image)
    .resize(BLURRED_SIDE, BLURRED_SIDE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}
