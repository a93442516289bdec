import {
  authorizeUpload,
  MediaError,
  newMediaId,
  planUpload,
  UPLOAD_URL_TTL_SECONDS,
  type Principal,
  type UploadRequest,
  type UploadTicket,
} from '@media/core';
import { incomingKey } from '@media/storage';
import type { Dependencies } from './dependencies';

/**
 * Turns upload requests into pending rows and presigned POSTs. All items are checked before any
 * row is written, so a batch is accepted or refused as a whole.
 */
export async function requestUploads(
  deps: Pick<Dependencies, 'media' | 'storage' | 'config'>,
  principal: Principal,
  requests: UploadRequest[],
): Promise<UploadTicket[]> {
  const plans = requests.map((request) => {
    const plan = planUpload(principal, request);
    authorizeUpload(principal, plan);
    return plan;
  });

  const { maxPendingUploads, tenantQuotaBytes } = deps.config.limits;
  const pending = await deps.media.countPending(principal.tenant, principal.sub);
  if (pending + plans.length > maxPendingUploads) {
    throw new MediaError(
      'TOO_MANY_PENDING_UPLOADS',
      `You have ${pending} unfinished uploads; at most ${maxPendingUploads} may be open at once. Finish or wait for them to expire.`,
      { retryAfterSeconds: UPLOAD_URL_TTL_SECONDS },
    );
  }
  const reserved = plans.reduce((sum, plan) => sum + plan.size, 0);
  const used = await deps.media.tenantBytes(principal.tenant);
  if (used + reserved > tenantQuotaBytes) {
    throw new MediaError('QUOTA_EXCEEDED', `This school's storage quota of ${tenantQuotaBytes} bytes would be exceeded.`);
  }

  const tickets: UploadTicket[] = [];
  for (const plan of plans) {
    const id = newMediaId();
    const key = incomingKey(principal.tenant, id);
    const upload = await deps.storage.presignUpload({
      key,
      contentType: plan.contentType,
      maxBytes: plan.size,
      expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
    });
    await deps.media.createPending({
      id,
      tenant: principal.tenant,
      purpose: plan.purpose,
      subjectId: plan.subjectId,
      classroomId: plan.classroomId,
      uploadedBy: principal.sub,
      contentType: plan.contentType,
      declaredSize: plan.size,
      filename: plan.filename,
      uploadExpiresAt: new Date(upload.expiresAt),
    });
    tickets.push({ mediaId: id, upload: { url: upload.url, fields: upload.fields }, expiresAt: upload.expiresAt, maxBytes: plan.size });
  }
  return tickets;
}
