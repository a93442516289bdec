import type { UploadTicket } from '@media/core';
import type { MediaRow } from '@media/db';
import { derivativePrefix, incomingKey, originalKey } from '@media/storage';
import type { TestStack } from '../../support/test-stack';

/** Asks the API for an upload and POSTs the bytes straight to the S3 server, as a browser does. */
export async function upload(
  stack: TestStack,
  token: string,
  bytes: Buffer,
  request: { purpose?: string; contentType?: string; classroomId?: string; subjectId?: string } = {},
): Promise<{ mediaId: string; key: string }> {
  const contentType = request.contentType ?? 'image/jpeg';
  const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
    token,
    body: {
      purpose: request.purpose ?? 'profile',
      contentType,
      size: bytes.length,
      ...(request.classroomId ? { classroomId: request.classroomId } : {}),
      ...(request.subjectId ? { subjectId: request.subjectId } : {}),
    },
  });
  if (requested.status !== 201) throw new Error(`upload request answered ${requested.status}: ${JSON.stringify(requested.json)}`);
  const posted = await stack.postToS3(requested.json.upload, bytes, contentType);
  if (posted.status !== 204) throw new Error(`S3 POST answered ${posted.status}`);
  const key = requested.json.upload.fields.key;
  if (!key) throw new Error('the presigned POST names no key');
  return { mediaId: requested.json.mediaId, key };
}

/** Every object the bucket holds for one item, sorted. */
export async function objectsOf(stack: Pick<TestStack, 'deps'>, tenant: string, mediaId: string): Promise<string[]> {
  const { storage } = stack.deps;
  const keys = [
    ...(await storage.listKeys(incomingKey(tenant, mediaId))),
    ...(await storage.listKeys(originalKey(tenant, mediaId))),
    ...(await storage.listKeys(derivativePrefix(tenant, mediaId))),
  ];
  return keys.sort();
}

/** What a processed item is, without what differs between two items (ids, keys, times). */
export function outcomeOf(row: MediaRow) {
  return {
    status: row.status,
    size: row.size,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    phash: row.phash,
    placeholder: row.placeholder,
    rejectionCode: row.rejectionCode,
    variants: row.variants.map(({ key: _key, ...rest }) => rest),
    leaseExpiresAt: row.leaseExpiresAt,
    announced: row.eventPublishedAt !== null,
  };
}

/** The objects a ready row says it has: exactly these may be in the bucket, nothing else. */
export const variantKeys = (row: MediaRow) => row.variants.map((v) => v.key).sort();
