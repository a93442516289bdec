import { purposePolicy } from '@media/core';
import type { Lease, MediaRow } from '@media/db';
import {
  isUploadRejected,
  processImage,
  transformVideo,
  VideoTransformAnswer,
  type UploadRejected,
  type VideoTransformRequest,
} from '@media/imaging';
import { incomingKey, originalKey, scratchKey } from '@media/storage';
import type { Dependencies } from './dependencies';
import { storeProcessed } from './processed-item';
import type { VideoTransformer } from './video-transformer';

type Deps = Pick<Dependencies, 'media' | 'storage' | 'events' | 'config' | 'videoTransformer'> & Partial<Pick<Dependencies, 'faceQueue'>>;

export type VideoOutcome =
  | { outcome: 'ready'; row: MediaRow; variants: number }
  | { outcome: 'rejected'; error: Pick<UploadRejected, 'code' | 'message'> }
  | { outcome: 'missing' }
  | { outcome: 'lease-lost' };

const UPLOAD_SHA256 = 'upload-sha256';
/** The transform's URLs live as long as Lambda lets a function run: the one reading and writing them. */
const TRANSFORM_URL_SECONDS = 900;
/** A PNG of an 8K frame fits easily; more is not a poster frame. */
const MAX_POSTER_BYTES = 256 * 1024 * 1024;

/** The same code as the transform function, in this process: the local stack and the tests. */
function inProcessTransformer(deps: Deps, lease: Lease): VideoTransformer {
  const { video, limits } = deps.config;
  return {
    transform: (request) =>
      transformVideo(request, {
        tools: video,
        limits: { maxBytes: limits.videoMaxBytes, maxSeconds: limits.videoMaxSeconds },
        deadlineMs: Date.now() + lease.seconds * 1000,
      }),
  };
}

/**
 * A claimed video, handed to the transform (docs/large-media.md § Least power): it gets a presigned
 * GET of the upload and presigned PUTs of two scratch keys, nothing else, and answers what the
 * probe found. Its answer is checked, and so are the objects it wrote, before anything is kept:
 * the poster frame made into the image variants by the imaging pipeline here, the clean copy
 * copied by S3 into originals/. The caller records a rejection and handles a lost lease.
 */
export async function processClaimedVideo(deps: Deps, row: MediaRow, lease: Lease): Promise<VideoOutcome> {
  const { tenant, id: mediaId } = row;
  const original = originalKey(tenant, mediaId);
  // Without the upload, an earlier attempt may have stored the clean original already: it is
  // processed again (remuxing it changes nothing), its hash of the upload taken from its metadata.
  let source = incomingKey(tenant, mediaId);
  let uploadSha256: string | undefined;
  if (!(await deps.storage.head(source))) {
    const metadata = await deps.storage.getObjectMetadata(original);
    if (!metadata) return { outcome: 'missing' };
    source = original;
    uploadSha256 = metadata[UPLOAD_SHA256];
  }
  const clean = scratchKey(tenant, mediaId, lease.owner, 'clean');
  const posterKey = scratchKey(tenant, mediaId, lease.owner, 'poster.png');
  try {
    const request: VideoTransformRequest = {
      source: await deps.storage.presignObject('GET', source, TRANSFORM_URL_SECONDS),
      declaredType: row.contentType,
      declaredSize: row.declaredSize,
      clean: await deps.storage.presignObject('PUT', clean, TRANSFORM_URL_SECONDS),
      poster: await deps.storage.presignObject('PUT', posterKey, TRANSFORM_URL_SECONDS),
    };
    const transformer = deps.videoTransformer ?? inProcessTransformer(deps, lease);
    const parsed = VideoTransformAnswer.safeParse(await transformer.transform(request));
    if (!parsed.success) throw new Error(`the video transform answered out of its contract: ${parsed.error.issues[0]?.message}`);
    const answer = parsed.data;
    if (answer.outcome === 'rejected') return { outcome: 'rejected', error: { code: answer.code, message: answer.message } };

    // What the transform says it wrote is what must be there, or nothing of it is kept.
    const [cleanHead, posterHead] = await Promise.all([deps.storage.head(clean), deps.storage.head(posterKey)]);
    if (cleanHead?.size !== answer.cleanSize || posterHead?.size !== answer.posterSize || answer.posterSize > MAX_POSTER_BYTES) {
      throw new Error('the video transform wrote other objects than it answered');
    }
    const poster = await deps.storage.getBytes(posterKey);
    if (poster?.length !== answer.posterSize) throw new Error('the poster frame changed under its key');
    // Scratch goes as soon as it is used, before the item is ready: a ready video leaves none.
    await deps.storage.deleteMany([posterKey]);
    const { probe } = answer;
    let image;
    try {
      image = await processImage(poster, {
        declaredType: 'image/png',
        declaredSize: poster.length,
        allowedTypes: ['image/png'],
        derivatives: purposePolicy(row.purpose).derivatives,
      });
    } catch (error) {
      if (isUploadRejected(error)) return { outcome: 'rejected', error };
      throw error;
    }
    const sha256 = uploadSha256 ?? answer.uploadSha256;

    const ready = await storeProcessed(deps, row, lease, {
      derivatives: image.derivatives,
      original: {
        store: async (key) => {
          await deps.storage.copy(clean, key, row.contentType, { purpose: row.purpose }, { [UPLOAD_SHA256]: sha256 });
          // A retry from here on reads the stored original, not this copy.
          await deps.storage.deleteMany([clean]);
        },
        format: probe.container,
        width: probe.width,
        height: probe.height,
        size: answer.cleanSize,
        contentType: row.contentType,
      },
      facts: {
        sha256,
        capturedAt: null,
        durationSeconds: Math.round(probe.durationSeconds * 1000) / 1000,
        phash: image.phash,
        placeholder: image.placeholder,
      },
    });
    if (!ready) return { outcome: 'lease-lost' };
    return { outcome: 'ready', row: ready, variants: ready.variants.length };
  } finally {
    // What a failure leaves is removed here; what a crash leaves, the bucket's lifecycle rule removes after a day.
    await deps.storage.deleteMany([clean, posterKey]).catch(() => undefined);
  }
}
