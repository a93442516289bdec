import {
  MediaError,
  UPLOAD_URL_TTL_SECONDS,
  type CompleteUploadRequest,
  type MediaRecord,
  type PartUrlsAnswer,
  type Principal,
  type UploadedPartsAnswer,
  notFound,
} from '@media/core';
import type { MediaRow } from '@media/db';
import { incomingKey } from '@media/storage';
import { toMediaRecord } from './media-record';
import type { MultipartPorts } from './ports';

type Deps = MultipartPorts;

/** S3 allows 10,000 parts; the part size grows past the configured one when a file needs it. */
const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

/** The parts a file of `size` bytes is sent in: every part `partSize` bytes but the last. */
export function partPlan(size: number, configuredPartBytes: number): { partSize: number; partCount: number } {
  const partSize = Math.max(configuredPartBytes, Math.ceil(size / MAX_PARTS / MiB) * MiB);
  return { partSize, partCount: Math.ceil(size / partSize) };
}

/** The exact length of part `partNumber` (1-based) of a planned upload: `partSize`, but the last holds the rest. */
export function partLength(plan: { partSize: number; partCount: number; size: number }, partNumber: number): number {
  return partNumber < plan.partCount ? plan.partSize : plan.size - plan.partSize * (plan.partCount - 1);
}

/**
 * The caller's own unfinished multipart upload. Another person's upload, or one of another school,
 * is not found (its existence is not revealed); one that is finished, aborted or expired is a conflict.
 */
async function openUpload(deps: Deps, principal: Principal, mediaId: string): Promise<MediaRow & { multipartUploadId: string }> {
  const row = await deps.media.findInTenant(principal.tenant, mediaId);
  if (!row || row.uploadedBy !== principal.sub || (row.multipartUploadId === null && row.partCount === null)) {
    throw notFound('upload');
  }
  if (row.status !== 'pending' || row.multipartUploadId === null) {
    throw new MediaError('CONFLICT', `This upload is ${row.status === 'pending' ? 'completed' : row.status}; it takes no more parts.`);
  }
  if (new Date(row.uploadExpiresAt).getTime() <= Date.now()) {
    throw new MediaError('CONFLICT', 'This upload has expired; ask for a new one.');
  }
  return { ...row, multipartUploadId: row.multipartUploadId };
}

/** Presigned PUTs for parts of the caller's upload; none outlives the upload itself. */
export async function signUploadParts(deps: Deps, principal: Principal, mediaId: string, partNumbers: number[]): Promise<PartUrlsAnswer> {
  const row = await openUpload(deps, principal, mediaId);
  const beyond = partNumbers.filter((n) => n > row.partCount!);
  if (beyond.length > 0) {
    throw new MediaError('VALIDATION_FAILED', `This upload has ${row.partCount} parts; there is no part ${beyond[0]}.`, {
      issues: [{ path: 'body.partNumbers', message: `at most ${row.partCount}` }],
    });
  }
  const untilExpiry = Math.floor((new Date(row.uploadExpiresAt).getTime() - Date.now()) / 1000);
  const expiresInSeconds = Math.max(1, Math.min(UPLOAD_URL_TTL_SECONDS, untilExpiry));
  const key = incomingKey(row.tenant, row.id);
  const parts = await Promise.all(
    [...new Set(partNumbers)].map(async (partNumber) => {
      // The plan comes from the row, so a part URL admits exactly the bytes the plan gives that part.
      const partBytes = partLength({ partSize: row.partSize!, partCount: row.partCount!, size: row.declaredSize }, partNumber);
      const signed = await deps.storage.presignUploadPart({
        key,
        uploadId: row.multipartUploadId,
        partNumber,
        partBytes,
        expiresInSeconds,
      });
      return { partNumber, ...signed };
    }),
  );
  return { parts };
}

/** What storage holds of the caller's upload so far: a client resumes from it. */
export async function listUploadedParts(deps: Deps, principal: Principal, mediaId: string): Promise<UploadedPartsAnswer> {
  const row = await openUpload(deps, principal, mediaId);
  const parts = await deps.storage.listParts(incomingKey(row.tenant, row.id), row.multipartUploadId);
  if (!parts) throw new MediaError('CONFLICT', 'Storage no longer holds this upload; ask for a new one.');
  return { parts, partSize: row.partSize!, partCount: row.partCount! };
}

const unquoted = (etag: string) => etag.replace(/"/g, '');

/**
 * Assembles the caller's parts, after checking them against the plan and against what storage
 * really holds: the parts named are exactly 1..partCount, each with the ETag storage has, every
 * part but the last of the planned size, and all of them together the declared size. A lie
 * refuses the completion (UPLOAD_MISMATCH) and leaves the upload open to fix. Processing then
 * starts from the S3 event, as for any upload.
 */
export async function completeUpload(
  deps: Deps,
  principal: Principal,
  mediaId: string,
  request: CompleteUploadRequest,
): Promise<MediaRecord> {
  const row = await openUpload(deps, principal, mediaId);
  const key = incomingKey(row.tenant, row.id);
  const mismatch = (detail: string) => new MediaError('UPLOAD_MISMATCH', detail);

  const named = [...request.parts].sort((a, b) => a.partNumber - b.partNumber);
  if (named.length !== row.partCount || named.some((part, i) => part.partNumber !== i + 1)) {
    throw mismatch(`This upload was planned as ${row.partCount} parts numbered 1 to ${row.partCount}; ${named.length} were named.`);
  }
  const held = await deps.storage.listParts(key, row.multipartUploadId);
  if (!held) throw new MediaError('CONFLICT', 'Storage no longer holds this upload; ask for a new one.');
  const byNumber = new Map(held.map((part) => [part.partNumber, part]));
  for (const part of named) {
    const stored = byNumber.get(part.partNumber);
    if (!stored) throw mismatch(`Part ${part.partNumber} has not arrived.`);
    if (unquoted(stored.etag) !== unquoted(part.etag))
      throw mismatch(`Part ${part.partNumber} is not the part storage holds (ETag differs).`);
    if (part.partNumber < row.partCount! && stored.size !== row.partSize) {
      throw mismatch(`Part ${part.partNumber} is ${stored.size} bytes; every part but the last must be ${row.partSize}.`);
    }
  }
  const total = named.reduce((sum, part) => sum + byNumber.get(part.partNumber)!.size, 0);
  if (total !== row.declaredSize) {
    throw mismatch(`The parts hold ${total} bytes; ${row.declaredSize} were declared.`);
  }

  await deps.storage.completeMultipartUpload(
    key,
    row.multipartUploadId,
    named.map((part) => ({ partNumber: part.partNumber, etag: byNumber.get(part.partNumber)!.etag })),
  );
  const done = await deps.media.completeMultipart(row.tenant, row.id, row.uploadedBy, row.multipartUploadId);
  // The S3 event may have reached the processor first; then the record has moved on already.
  const now = done ?? (await deps.media.findInTenant(row.tenant, row.id));
  if (!now) throw notFound('upload');
  return toMediaRecord(now);
}

/** Gives up the caller's upload: the record becomes expired (its reservation ends) and storage drops the parts. */
export async function abortUpload(deps: Deps, principal: Principal, mediaId: string): Promise<void> {
  const row = await openUpload(deps, principal, mediaId);
  const aborted = await deps.media.abortMultipart(row.tenant, row.id, principal.sub);
  if (!aborted) throw new MediaError('CONFLICT', 'This upload was completed or aborted meanwhile.');
  await deps.storage.abortMultipartUpload(incomingKey(row.tenant, row.id), row.multipartUploadId);
}
