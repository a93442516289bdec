import { purposePolicy } from '@media/core';
import type { Lease, MediaRow } from '@media/db';
import {
  isUploadRejected,
  posterFrame,
  probeVideo,
  processImage,
  remuxVideo,
  sha256OfFile,
  shippedVideoTools,
  type UploadRejected,
} from '@media/imaging';
import { incomingKey, originalKey } from '@media/storage';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dependencies } from './dependencies';
import { storeProcessed } from './processed-item';

type Deps = Pick<Dependencies, 'media' | 'storage' | 'events' | 'config'> & Partial<Pick<Dependencies, 'faceQueue'>>;

export type VideoOutcome =
  | { outcome: 'ready'; row: MediaRow; variants: number }
  | { outcome: 'rejected'; error: Pick<UploadRejected, 'code' | 'message'> }
  | { outcome: 'missing' }
  | { outcome: 'lease-lost' };

const UPLOAD_SHA256 = 'upload-sha256';
/** Scratch folders are named for the moment their worker's lease ends: `media-video-<ms>-XXXXXX`. */
const SCRATCH = /^media-video-(\d+)-/;

/**
 * A worker stopped by its function's time limit never reaches its `finally`, and Lambda keeps
 * /tmp for the next invocation: folders whose lease has ended go before a new one is made. Only
 * those: a folder whose lease still runs belongs to a worker still at work (the local stack and
 * the tests run several in one machine).
 */
async function removeAbandonedScratch(): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const ends = Number(SCRATCH.exec(name)?.[1]);
    if (ends && ends < now) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}
const EXTENSIONS: Record<string, string> = { mp4: 'mp4', mov: 'mov', webm: 'webm' };

/**
 * A claimed video: streamed from S3 to a scratch folder (never held in memory: 2 GiB fit in the
 * function's ephemeral storage, not its memory), checked with ffprobe, remuxed without its metadata
 * and without re-encoding, a poster frame made into the image variants by the imaging pipeline,
 * the clean original stored. The caller records a rejection and handles a lost lease.
 */
export async function processClaimedVideo(deps: Deps, row: MediaRow, lease: Lease): Promise<VideoOutcome> {
  const { tenant, id: mediaId } = row;
  const source = incomingKey(tenant, mediaId);
  const original = originalKey(tenant, mediaId);
  await removeAbandonedScratch();
  const scratch = await mkdtemp(join(tmpdir(), `media-video-${Date.now() + lease.seconds * 1000}-`));
  try {
    const input = join(scratch, 'upload');
    // Without the upload, an earlier attempt may have stored the clean original already: it is
    // processed again (remuxing it changes nothing), its hash of the upload taken from its metadata.
    let uploadSha256: string | undefined;
    if (!(await deps.storage.downloadToFile(source, input))) {
      if (!(await deps.storage.downloadToFile(original, input))) return { outcome: 'missing' };
      uploadSha256 = (await deps.storage.getObjectMetadata(original))?.[UPLOAD_SHA256];
    }
    const { size } = await stat(input);
    if (size > row.declaredSize) {
      return {
        outcome: 'rejected',
        error: { code: 'SIZE_MISMATCH', message: `The file is ${size} bytes, more than the ${row.declaredSize} bytes declared.` },
      };
    }
    const tools = await shippedVideoTools(deps.config.video);
    const limits = { maxBytes: deps.config.limits.videoMaxBytes, maxSeconds: deps.config.limits.videoMaxSeconds };
    let probed, clean, poster, image;
    try {
      probed = await probeVideo(input, row.contentType, tools, limits);
      clean = join(scratch, `clean.${EXTENSIONS[probed.container]}`);
      await remuxVideo(input, clean, probed, tools);
      poster = await posterFrame(clean, probed, tools);
      const policy = purposePolicy(row.purpose);
      image = await processImage(poster, {
        declaredType: 'image/png',
        declaredSize: poster.length,
        allowedTypes: ['image/png'],
        derivatives: policy.derivatives,
      });
    } catch (error) {
      if (isUploadRejected(error)) return { outcome: 'rejected', error };
      throw error;
    }
    uploadSha256 ??= await sha256OfFile(input);

    const ready = await storeProcessed(deps, row, lease, {
      derivatives: image.derivatives,
      original: {
        store: (key) => deps.storage.putFile(key, clean, row.contentType, { purpose: row.purpose }, { [UPLOAD_SHA256]: uploadSha256 }),
        format: probed.container,
        width: probed.width,
        height: probed.height,
        size: (await stat(clean)).size,
        contentType: row.contentType,
      },
      facts: {
        sha256: uploadSha256,
        capturedAt: null,
        durationSeconds: Math.round(probed.durationSeconds * 1000) / 1000,
        phash: image.phash,
        placeholder: image.placeholder,
      },
    });
    if (!ready) return { outcome: 'lease-lost' };
    return { outcome: 'ready', row: ready, variants: ready.variants.length };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
