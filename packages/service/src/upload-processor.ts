import { FORMAT_CONTENT_TYPES, mediaEventId, purposePolicy, type MediaEvent, type StoredVariant } from '@media/core';
import type { MediaRow } from '@media/db';
import { isUploadRejected, processImage, type UploadRejected } from '@media/imaging';
import { derivativeKey, incomingKey, originalKey, parseIncomingKey } from '@media/storage';
import type { Dependencies } from './dependencies';

export type ProcessOutcome =
  | { outcome: 'ready'; mediaId: string; variants: number }
  | { outcome: 'rejected'; mediaId: string; code: string }
  | { outcome: 'ignored'; reason: string; mediaId?: string };

/** Raised for work that must be retried later (another worker holds the lease). */
export class RetryLater extends Error {
  override readonly name = 'RetryLater';
}

type Deps = Pick<Dependencies, 'media' | 'storage' | 'events' | 'config'>;

const eventBase = (row: MediaRow) => ({
  occurredAt: new Date().toISOString(),
  tenant: row.tenant,
  mediaId: row.id,
  purpose: row.purpose,
  subjectId: row.subjectId,
  classroomId: row.classroomId,
});

/**
 * Handles one uploaded object: claim the row, check the real bytes, write derivatives and the
 * original, record the result, announce it. Safe to run any number of times for the same object:
 * the claim and the final UPDATE are conditional, and every write goes to a deterministic key.
 * Bad bytes end as `rejected` (never thrown); transient failures throw so the message is retried.
 */
export async function processUploadedObject(deps: Deps, object: { bucket: string; key: string }): Promise<ProcessOutcome> {
  if (object.bucket !== deps.config.bucket) return { outcome: 'ignored', reason: 'foreign-bucket' };
  const parsed = parseIncomingKey(object.key);
  if (!parsed) return { outcome: 'ignored', reason: 'not-an-incoming-key' };
  const { tenant, mediaId } = parsed;

  const existing = await deps.media.findById(mediaId);
  if (!existing) return { outcome: 'ignored', reason: 'unknown-media', mediaId };
  if (existing.tenant !== tenant) return { outcome: 'ignored', reason: 'tenant-mismatch', mediaId };
  if (existing.status === 'expired' || existing.status === 'deleted') {
    // A late or orphaned upload: nobody may ever read it, so it goes.
    await deps.storage.deleteMany([incomingKey(tenant, mediaId)]);
    return { outcome: 'ignored', reason: `media-${existing.status}`, mediaId };
  }
  if (existing.status === 'ready' || existing.status === 'rejected') {
    return { outcome: 'ignored', reason: 'already-processed', mediaId };
  }

  const row = await deps.media.claim(mediaId, deps.config.processing.leaseSeconds);
  if (!row) {
    const now = await deps.media.findById(mediaId);
    if (now?.status === 'processing') throw new RetryLater(`media ${mediaId} is being processed elsewhere`);
    return { outcome: 'ignored', reason: 'already-processed', mediaId };
  }

  const source = incomingKey(tenant, mediaId);
  const head = await deps.storage.head(source);
  if (!head) {
    // The object is gone (deleted, or an earlier attempt finished moving it): nothing to do now.
    const original = await deps.storage.head(originalKey(tenant, mediaId));
    if (!original) {
      await deps.media.releaseClaim(mediaId);
      return { outcome: 'ignored', reason: 'object-missing', mediaId };
    }
  }

  if (head && head.size > row.declaredSize) {
    return reject(deps, row, {
      code: 'SIZE_MISMATCH',
      message: `The file is ${head.size} bytes, more than the ${row.declaredSize} bytes declared.`,
    } as UploadRejected);
  }

  const bytes = (await deps.storage.getBytes(source)) ?? (await deps.storage.getBytes(originalKey(tenant, mediaId)));
  if (!bytes) throw new RetryLater(`object for media ${mediaId} vanished while processing`);
  if (bytes.length > row.declaredSize) {
    return reject(deps, row, {
      code: 'SIZE_MISMATCH',
      message: `The file is ${bytes.length} bytes, more than the ${row.declaredSize} bytes declared.`,
    } as UploadRejected);
  }

  const policy = purposePolicy(row.purpose);
  let image;
  try {
    image = await processImage(bytes, {
      declaredType: row.contentType,
      allowedTypes: policy.allowedTypes,
      derivatives: policy.derivatives,
    });
  } catch (error) {
    if (isUploadRejected(error)) return reject(deps, row, error);
    throw error;
  }

  const variants: StoredVariant[] = await Promise.all(
    image.derivatives.map(async (d) => {
      const key = derivativeKey(tenant, mediaId, d.name, d.format);
      await deps.storage.put(key, d.data, FORMAT_CONTENT_TYPES[d.format]);
      return { name: d.name, format: d.format, width: d.width, height: d.height, size: d.data.length, key, contentType: d.contentType };
    }),
  );
  const original = originalKey(tenant, mediaId);
  if (head) await deps.storage.copy(source, original, image.contentType);
  variants.unshift({
    name: 'original',
    format: image.contentType.split('/')[1]!,
    width: image.width,
    height: image.height,
    size: bytes.length,
    key: original,
    contentType: image.contentType,
  });

  const ready = await deps.media.markReady(mediaId, {
    size: bytes.length,
    width: image.width,
    height: image.height,
    sha256: image.sha256,
    phash: image.phash,
    placeholder: image.placeholder,
    originalKey: original,
    variants,
  });
  if (!ready) return { outcome: 'ignored', reason: 'lease-lost', mediaId };
  await deps.storage.deleteMany([source]);
  const event: MediaEvent = {
    ...eventBase(ready),
    eventId: mediaEventId('media.ready', mediaId),
    type: 'media.ready',
    contentType: ready.contentType,
    width: ready.width,
    height: ready.height,
    sha256: ready.sha256,
    variants: variants.map(({ name, key, format, width, height, size }) => ({ name, key, format, width, height, size })),
  };
  await deps.events.publish(event);
  return { outcome: 'ready', mediaId, variants: variants.length };
}

async function reject(deps: Deps, row: MediaRow, error: Pick<UploadRejected, 'code' | 'message'>): Promise<ProcessOutcome> {
  const rejected = await deps.media.markRejected(row.id, error.code, error.message);
  // The bytes were refused: they are removed, and nothing derived from them was written.
  await deps.storage.deleteMany([incomingKey(row.tenant, row.id)]);
  if (rejected) {
    await deps.events.publish({
      ...eventBase(rejected),
      eventId: mediaEventId('media.rejected', row.id),
      type: 'media.rejected',
      rejection: { code: error.code, detail: error.message },
    });
  }
  return { outcome: 'rejected', mediaId: row.id, code: error.code };
}
