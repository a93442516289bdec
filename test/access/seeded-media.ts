import { newMediaId, type Purpose, UPLOAD_URL_TTL_SECONDS } from '@media/core';
import type { MediaRow } from '@media/db';
import { incomingKey } from '@media/storage';
import { inParallel } from '../support/in-parallel';
import { createPending } from '../support/media-rows';
import type { TestStack } from '../support/test-stack';

export interface SeedItem {
  tenant: string;
  purpose: Purpose;
  subjectId: string;
  classroomId: string | null;
  uploadedBy: string;
  filename?: string;
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
    await createPending(stack.deps.db, {
      id,
      ...item,
      subjectIds: [item.subjectId],
      filename: item.filename ?? null,
      contentType: 'image/jpeg',
      declaredSize: photo.length,
      uploadExpiresAt: new Date(upload.expiresAt),
    });
    const posted = await stack.postToS3(upload, photo, 'image/jpeg');
    // With S3's own words: a 500 from the local S3 server was seen once in a full run, not since.
    if (posted.status !== 204) throw new Error(`S3 refused the seed upload: ${posted.status} ${await posted.text()}`);
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

/**
 * Like `seedReadyMedia`, for tests of who may do what rather than of processing (the access
 * matrix): the first item of each purpose goes through the real pipeline; every other item of
 * that purpose is a copy of it under its own row and its own keys (objects copied in S3, the row
 * claimed and made ready by the repository as the processor does). Same variants, same objects,
 * a fraction of the image work.
 */
export async function seedReadyMediaByPurpose(stack: TestStack, items: readonly SeedItem[], photo: Buffer): Promise<MediaRow[]> {
  const { media, storage } = stack.deps;
  const firsts = [...new Map(items.map((item) => [item.purpose, item])).values()];
  const templates = new Map((await seedReadyMedia(stack, firsts, photo)).map((row) => [row.purpose, row]));
  return inParallel(items, 8, async (item) => {
    const template = templates.get(item.purpose)!;
    if (firsts.includes(item)) return template;
    const id = newMediaId();
    const moved = (key: string) => key.replace(`/${template.tenant}/${template.id}`, `/${item.tenant}/${id}`);
    await createPending(stack.deps.db, {
      id,
      ...item,
      subjectIds: [item.subjectId],
      filename: item.filename ?? null,
      contentType: template.contentType,
      declaredSize: template.declaredSize,
      uploadExpiresAt: new Date(Date.now() + UPLOAD_URL_TTL_SECONDS * 1000),
    });
    const claimed = await media.claim(id, 60);
    if (!claimed?.leaseOwner) throw new Error(`could not claim seed item ${id}`);
    const variants = template.variants.map((v) => ({ ...v, key: moved(v.key) }));
    const originalKey = moved(template.originalKey!);
    // The original and every derivative, each once (the `original` variant is the original's key).
    const copies = new Map<string, { from: string; type: string }>([
      [originalKey, { from: template.originalKey!, type: template.contentType }],
    ]);
    for (const v of template.variants) if (!copies.has(moved(v.key))) copies.set(moved(v.key), { from: v.key, type: v.contentType });
    for (const [to, { from, type }] of copies) await storage.copy(from, to, type);
    const ready = await media.markReady(
      id,
      {
        size: template.size!,
        width: template.width!,
        height: template.height!,
        sha256: template.sha256!,
        phash: template.phash,
        placeholder: template.placeholder,
        originalKey,
        variants,
      },
      { owner: claimed.leaseOwner, seconds: 60 },
    );
    if (!ready) throw new Error(`could not make seed item ${id} ready`);
    // Settled as the processor leaves it: announced, no lease held.
    await media.markAnnounced(id, 'ready');
    return (await media.findById(id))!;
  });
}
