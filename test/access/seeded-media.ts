import { newMediaId, type Purpose, UPLOAD_URL_TTL_SECONDS } from '@media/core';
import type { MediaRow } from '@media/db';
import { incomingKey } from '@media/storage';
import type { TestStack } from '../support/test-stack';

export interface SeedItem {
  tenant: string;
  purpose: Purpose;
  subjectId: string;
  classroomId: string | null;
  uploadedBy: string;
  filename?: string;
}

/** Runs `work` over `items`, at most `width` at a time, keeping the order of the results. */
export async function inParallel<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Real media items as a test needs them: a pending row as `requestUploads` writes it (but for any
 * uploader, so items can exist that the policy would not let that principal upload today, as after
 * a change of role), the photo POSTed to the S3 server with the presigned form, and the real
 * pipeline (S3 event → SQS → processor) left to take each to `ready`.
 */
export async function seedReadyMedia(stack: TestStack, items: readonly SeedItem[], photo: Buffer): Promise<MediaRow[]> {
  const { media, storage } = stack.deps;
  const ids = await inParallel(items, 8, async (item) => {
    const id = newMediaId();
    const upload = await storage.presignUpload({
      key: incomingKey(item.tenant, id),
      contentType: 'image/jpeg',
      maxBytes: photo.length,
      expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
    });
    await media.createPending({
      id,
      ...item,
      filename: item.filename ?? null,
      contentType: 'image/jpeg',
      declaredSize: photo.length,
      uploadExpiresAt: new Date(upload.expiresAt),
    });
    const posted = await stack.postToS3(upload, photo, 'image/jpeg');
    if (posted.status !== 204) throw new Error(`S3 refused the seed upload: ${posted.status}`);
    return id;
  });
  // The wait scales with the work: a second per item on top of a fixed start, for a busy machine.
  const waitMs = 30_000 + ids.length * 1_000;
  const deadline = Date.now() + waitMs;
  const rows = new Map<string, MediaRow>();
  while (rows.size < ids.length) {
    for (const id of ids) {
      if (rows.has(id)) continue;
      const row = await media.findById(id);
      if (row?.status === 'ready') rows.set(id, row);
      else if (row?.status === 'rejected') throw new Error(`seed item ${id} was rejected: ${row.rejectionDetail}`);
    }
    if (rows.size < ids.length) {
      if (Date.now() > deadline) throw new Error(`${ids.length - rows.size} seed items not ready after ${waitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return ids.map((id) => rows.get(id)!);
}
