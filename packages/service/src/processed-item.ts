import { FORMAT_CONTENT_TYPES, purposePolicy, type StoredVariant } from '@media/core';
import type { Lease, MediaRow, ProcessedMedia } from '@media/db';
import type { Derivative } from '@media/imaging';
import { derivativeKey, incomingKey, originalKey } from '@media/storage';
import { announce } from './announcements';
import type { Dependencies } from './dependencies';
import { handToFaceStage } from './face-queue';

type Deps = Pick<Dependencies, 'media' | 'storage' | 'events'> & Partial<Pick<Dependencies, 'faceQueue'>>;

/** What processing made of an upload, image or video, before anything of it is stored. */
export interface ProcessedItem {
  /** The image variants (a video's are made from its poster frame). */
  derivatives: readonly Derivative[];
  /** The clean original: how it is written under its key, and what the record says of it. */
  original: {
    store: (key: string) => Promise<void>;
    format: string;
    width: number;
    height: number;
    size: number;
    contentType: string;
  };
  /** The record's fields that come from the bytes. */
  facts: Omit<ProcessedMedia, 'originalKey' | 'variants' | 'size' | 'width' | 'height'>;
}

/**
 * The headers of every derivative, image or video poster alike. A derivative never changes under
 * its key (a delete removes the key and invalidates the CDN): browsers keep it as long as a URL to
 * it lives, and no shared cache but ours keeps it at all.
 */
export const derivativeCacheControl = (row: Pick<MediaRow, 'purpose'>) =>
  `private, max-age=${purposePolicy(row.purpose).downloadTtlSeconds}, immutable`;

/**
 * The one processing tail, for images and videos: the derivatives and the clean original written
 * to their deterministic keys, the row made `ready` under the worker's lease, the upload removed,
 * the event sent, then the item handed to the face stage (an image, or a video by its poster).
 * Undefined when the lease was lost meanwhile (the caller finds out why).
 */
export async function storeProcessed(deps: Deps, row: MediaRow, lease: Lease, item: ProcessedItem): Promise<MediaRow | undefined> {
  const { tenant, id: mediaId } = row;
  const cacheControl = derivativeCacheControl(row);
  const variants: StoredVariant[] = await Promise.all(
    item.derivatives.map(async (d) => {
      const key = derivativeKey(tenant, mediaId, d.name, d.format);
      await deps.storage.put(key, d.data, FORMAT_CONTENT_TYPES[d.format], undefined, undefined, cacheControl);
      return { name: d.name, format: d.format, width: d.width, height: d.height, size: d.data.length, key, contentType: d.contentType };
    }),
  );
  const original = originalKey(tenant, mediaId);
  await item.original.store(original);
  const { store: _, ...stored } = item.original;
  variants.unshift({ name: 'original', ...stored, key: original });

  const { size, width, height } = item.original;
  const ready = await deps.media.markReady(mediaId, { ...item.facts, size, width, height, originalKey: original, variants }, lease);
  if (!ready) return undefined;
  await deps.storage.deleteMany([incomingKey(tenant, mediaId)]);
  await announce(deps, ready);
  await handToFaceStage(deps.faceQueue, { tenant, mediaId });
  return ready;
}
