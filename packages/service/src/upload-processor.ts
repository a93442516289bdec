import { purposePolicy } from '@media/core';
import type { Lease, MediaRow } from '@media/db';
import { isUploadRejected, processImage, type UploadRejected } from '@media/imaging';
import { incomingKey, originalKey, parseIncomingKey } from '@media/storage';
import { announce, announceLate, giveBack } from './announcements';
import type { Dependencies } from './dependencies';
import { objectKeysOf, purgeObjects } from './item-lifecycle';
import { storeProcessed } from './processed-item';
import { processClaimedVideo } from './video-processor';

export type ProcessOutcome =
  | { outcome: 'ready'; mediaId: string; variants: number }
  | { outcome: 'rejected'; mediaId: string; code: string }
  /** A video, handed to the video function's queue. */
  | { outcome: 'forwarded'; mediaId: string }
  | { outcome: 'ignored'; reason: string; mediaId?: string };

/** Raised for work that must be retried later (another worker holds the lease). */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

type Deps = Pick<Dependencies, 'media' | 'storage' | 'events' | 'config'> & Partial<Pick<Dependencies, 'videoQueue' | 'faceQueue'>>;

/**
 * User metadata of a stored original: what the record took from the upload before its metadata
 * went, for a retry that finds only the original. Nothing the record does not show already.
 */
const UPLOAD_SHA256 = 'upload-sha256';
const CAPTURED_AT = 'captured-at';

/**
 * Handles one uploaded object: claim the row, check the real bytes, write derivatives and the
 * original, record the result, announce it. Safe to run any number of times, concurrently, for
 * the same object: the claim is one conditional UPDATE with a lease, only the lease's holder can
 * record the result, every write goes to a deterministic key, and the event is sent by whoever
 * holds the row after its state changed, then marked as sent.
 * Bad bytes end as `rejected` (never thrown); transient failures throw so the message is retried,
 * after handing the lease back so the retry need not wait for it to run out.
 */
export async function processUploadedObject(deps: Deps, object: { bucket: string; key: string }): Promise<ProcessOutcome> {
  if (object.bucket !== deps.config.bucket) return { outcome: 'ignored', reason: 'foreign-bucket' };
  const parsed = parseIncomingKey(object.key);
  if (!parsed) return { outcome: 'ignored', reason: 'not-an-incoming-key' };
  const { tenant, mediaId } = parsed;

  const existing = await deps.media.findById(mediaId);
  if (!existing) return { outcome: 'ignored', reason: 'unknown-media', mediaId };
  if (existing.tenant !== tenant) return { outcome: 'ignored', reason: 'tenant-mismatch', mediaId };
  switch (existing.status) {
    case 'expired':
      // A late or orphaned upload: nobody may ever read it, so it goes.
      await deps.storage.deleteMany([incomingKey(tenant, mediaId)]);
      return { outcome: 'ignored', reason: `media-${existing.status}`, mediaId };
    case 'deleted':
      // Deleted while a worker may have been writing (this delivery may be that worker's retry):
      // everything the item has goes again, not just the upload.
      await purgeObjects(deps, existing);
      return { outcome: 'ignored', reason: `media-${existing.status}`, mediaId };
    case 'ready':
    case 'rejected':
      // A duplicate delivery. If the worker that finished it stopped before its event went out,
      // this delivery finishes the job; otherwise the incoming key holds nothing we may keep.
      if (existing.eventPublishedAt === null && (await announceLate(deps, mediaId))) {
        return { outcome: 'ignored', reason: 'already-processed-event-sent', mediaId };
      }
      if (existing.eventPublishedAt !== null) await deps.storage.deleteMany([incomingKey(tenant, mediaId)]);
      return { outcome: 'ignored', reason: 'already-processed', mediaId };
  }

  if (existing.kind === 'video' && deps.videoQueue) {
    // Videos have their own queue and function: a photo never waits behind one.
    await deps.videoQueue.forward(object);
    return { outcome: 'forwarded', mediaId };
  }

  const row = await deps.media.claim(mediaId, deps.config.processing.leaseSeconds);
  if (!row) {
    // Someone holds a live lease: a concurrent duplicate, or this very message whose earlier claim
    // went through but whose worker died. Only a retry tells them apart: by the time it comes back
    // (the queue's visibility timeout) the work is done, or the lease has run out and it takes over.
    const now = await deps.media.findById(mediaId);
    if (now?.status === 'processing') throw new RetryLater(`media ${mediaId} is being processed elsewhere`);
    return { outcome: 'ignored', reason: 'already-processed', mediaId };
  }
  const lease = { owner: row.leaseOwner!, seconds: deps.config.processing.leaseSeconds };
  if (row.attempts > deps.config.processing.maxAttempts) {
    // Every earlier claim ended without a result (the worker crashed, ran out of time or memory):
    // these bytes are what stops it, so they are refused rather than tried for good.
    return reject(deps, row, lease, {
      code: row.kind === 'video' ? 'VIDEO_TOO_COMPLEX' : 'CORRUPT_IMAGE',
      message: `The file could not be processed in ${deps.config.processing.maxAttempts} attempts.`,
    });
  }
  try {
    return await processClaimed(deps, row, lease);
  } catch (error) {
    await giveBack(deps, row);
    await removeIfDeleted(deps, mediaId);
    throw error;
  }
}

/**
 * A worker that fails may have written objects after a delete removed everything: if the item is
 * deleted by now, what it wrote goes. Best effort: the redelivery and the sweeper purge it too.
 */
async function removeIfDeleted(deps: Deps, mediaId: string): Promise<void> {
  try {
    const now = await deps.media.findById(mediaId);
    if (now?.status === 'deleted') await purgeObjects(deps, now);
  } catch {
    // The failure that brought us here may well be this one too.
  }
}

async function processClaimed(deps: Deps, row: MediaRow, lease: Lease): Promise<ProcessOutcome> {
  const { tenant, id: mediaId } = row;
  const source = incomingKey(tenant, mediaId);
  const original = originalKey(tenant, mediaId);

  // The size first, so an oversized object (emulators do not enforce the POST policy) is never read.
  const head = await deps.storage.head(source);
  if (head && head.size > row.declaredSize) {
    return reject(deps, row, lease, {
      code: 'SIZE_MISMATCH',
      message: `The file is ${head.size} bytes, more than the ${row.declaredSize} bytes declared.`,
    });
  }
  if (row.kind === 'video') {
    const video = await processClaimedVideo(deps, row, lease);
    switch (video.outcome) {
      case 'ready':
        return { outcome: 'ready', mediaId, variants: video.variants };
      case 'rejected':
        return reject(deps, row, lease, video.error);
      case 'missing':
        await deps.media.releaseLease(mediaId, lease.owner);
        return { outcome: 'ignored', reason: 'object-missing', mediaId };
      case 'lease-lost':
        return lostLease(deps, row);
    }
  }
  // Without the incoming object, an earlier attempt may have stored the original already. Its bytes
  // have lost their metadata, so what the record takes from the upload (its hash, its capture time)
  // comes back from the object's own metadata, written with it (see below).
  const stored = head ? null : await deps.storage.getObject(original);
  const bytes = head ? await deps.storage.getBytes(source) : (stored?.bytes ?? null);
  if (!bytes) {
    // Not there (yet): hand the row back untouched; a later delivery or the sweeper picks it up.
    await deps.media.releaseLease(mediaId, lease.owner);
    return { outcome: 'ignored', reason: 'object-missing', mediaId };
  }
  if (bytes.length > row.declaredSize) {
    return reject(deps, row, lease, {
      code: 'SIZE_MISMATCH',
      message: `The file is ${bytes.length} bytes, more than the ${row.declaredSize} bytes declared.`,
    });
  }

  const policy = purposePolicy(row.purpose);
  let image;
  try {
    image = await processImage(bytes, {
      declaredType: row.contentType,
      declaredSize: row.declaredSize,
      maxBytes: policy.maxBytes,
      filename: row.filename ?? undefined,
      allowedTypes: policy.allowedTypes,
      derivatives: policy.derivatives,
    });
  } catch (error) {
    if (isUploadRejected(error)) return reject(deps, row, lease, error);
    throw error;
  }

  const upload = {
    sha256: stored?.metadata[UPLOAD_SHA256] ?? image.sha256,
    capturedAt: stored?.metadata[CAPTURED_AT] ?? image.capturedAt,
  };
  const ready = await storeProcessed(deps, row, lease, {
    derivatives: image.derivatives,
    // The original is the validated bytes themselves (not a copy of whatever the key holds by now),
    // without their metadata (GPS, camera, XMP, IPTC, comments: only the ICC profile and the
    // orientation stay) and less a harmless trailer such as a motion photo's video. The purpose tag
    // lets lifecycle rules treat originals by purpose (attendance: infrequent access).
    original: {
      store: (key) =>
        deps.storage.put(
          key,
          image.original,
          image.contentType,
          { purpose: row.purpose },
          { [UPLOAD_SHA256]: upload.sha256, ...(upload.capturedAt ? { [CAPTURED_AT]: upload.capturedAt } : {}) },
        ),
      format: image.contentType.split('/')[1]!,
      width: image.width,
      height: image.height,
      size: image.original.length,
      contentType: image.contentType,
    },
    facts: {
      // Of the bytes as uploaded, so a client can find its upload by the hash it computed; `size` is the stored size.
      sha256: upload.sha256,
      capturedAt: upload.capturedAt,
      phash: image.phash,
      placeholder: image.placeholder,
    },
  });
  if (!ready) return lostLease(deps, row);
  return { outcome: 'ready', mediaId, variants: ready.variants.length };
}

/**
 * Another worker took the row over while this one worked (its lease ran out), or the item was
 * deleted meanwhile. In the second case what this worker wrote may have landed after the delete
 * removed everything, so it removes it again.
 */
async function lostLease(deps: Deps, row: MediaRow): Promise<ProcessOutcome> {
  const now = await deps.media.findById(row.id);
  if (now?.status === 'deleted') {
    await purgeObjects(deps, now);
    return { outcome: 'ignored', reason: `media-${now.status}`, mediaId: row.id };
  }
  if (now?.status === 'expired') {
    await deps.storage.deleteMany(await objectKeysOf(deps, now));
    return { outcome: 'ignored', reason: `media-${now.status}`, mediaId: row.id };
  }
  return { outcome: 'ignored', reason: 'lease-lost', mediaId: row.id };
}

async function reject(deps: Deps, row: MediaRow, lease: Lease, error: Pick<UploadRejected, 'code' | 'message'>): Promise<ProcessOutcome> {
  const rejected = await deps.media.markRejected(row.id, error.code, error.message, lease);
  if (!rejected) return lostLease(deps, row);
  // The bytes were refused: they are removed, and nothing derived from them was written.
  await deps.storage.deleteMany([incomingKey(row.tenant, row.id)]);
  await announce(deps, rejected);
  return { outcome: 'rejected', mediaId: row.id, code: error.code };
}
