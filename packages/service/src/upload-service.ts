import {
  authorizeUpload,
  MediaError,
  newMediaId,
  planUpload,
  UPLOAD_URL_TTL_SECONDS,
  type Principal,
  type UploadPlan,
  type UploadRequest,
  type UploadTicket,
} from '@media/core';
import { incomingKey } from '@media/storage';
import type { UploadPorts, UploadRows } from './ports';

type Deps = UploadPorts;

/**
 * Turns upload requests into pending rows and presigned POSTs. All items are checked before any
 * row is written, so a batch is accepted or refused as a whole; the abuse limits are checked and
 * the rows written under the tenant's upload lock, so concurrent requests cannot over-book them.
 */
export async function requestUploads(deps: Deps, principal: Principal, requests: UploadRequest[]): Promise<UploadTicket[]> {
  const plans = requests.map((request) => {
    const plan = planUpload(principal, request);
    // The policy judges the subject the caller named, not the default of "about the caller".
    authorizeUpload(principal, { purpose: plan.purpose, subjectId: request.subjectId ?? null, classroomId: plan.classroomId });
    return plan;
  });

  return deps.media.withUploadLock(principal.tenant, async (media) => {
    await checkPendingLimit(deps, media, principal, plans);
    await checkQuota(deps, media, principal, plans);
    const tickets: UploadTicket[] = [];
    for (const plan of plans) {
      const id = newMediaId();
      const upload = await deps.storage.presignUpload({
        key: incomingKey(principal.tenant, id),
        contentType: plan.contentType,
        maxBytes: plan.size,
        expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
      });
      await media.createPending({
        id,
        tenant: principal.tenant,
        purpose: plan.purpose,
        subjectId: plan.subjectId,
        classroomId: plan.classroomId,
        uploadedBy: principal.sub,
        contentType: plan.contentType,
        declaredSize: plan.size,
        filename: plan.filename,
        // The row stops counting against the limit exactly when its POST stops working.
        uploadExpiresAt: new Date(upload.expiresAt),
      });
      tickets.push({ mediaId: id, upload: { url: upload.url, fields: upload.fields }, expiresAt: upload.expiresAt, maxBytes: plan.size });
    }
    return tickets;
  });
}

/**
 * A principal may hold at most `limit(purpose)` unfinished uploads, counting every item of a batch.
 * Uploads whose POST has expired no longer count; Retry-After says when enough of them will have.
 */
async function checkPendingLimit(deps: Deps, media: UploadRows, principal: Principal, plans: UploadPlan[]): Promise<void> {
  const limit = Math.min(...plans.map((plan) => deps.config.limits.maxPendingUploads[plan.purpose]));
  const expiries = await media.pendingUploadExpiries(principal.tenant, principal.sub);
  const excess = expiries.length + plans.length - limit;
  if (excess <= 0) return;
  const freedAt = expiries[Math.min(excess, expiries.length) - 1];
  const retryAfterSeconds = freedAt ? Math.max(1, Math.ceil((freedAt.getTime() - Date.now()) / 1000)) : UPLOAD_URL_TTL_SECONDS;
  throw new MediaError(
    'TOO_MANY_PENDING_UPLOADS',
    `You have ${expiries.length} unfinished uploads and asked for ${plans.length} more; at most ${limit} may be open at once. ` +
      'Finish them or wait for them to expire.',
    { retryAfterSeconds },
  );
}

/** The tenant's stored and reserved bytes, as usage reports them, plus this request must fit the quota. */
async function checkQuota(deps: Deps, media: UploadRows, principal: Principal, plans: UploadPlan[]): Promise<void> {
  const quota = deps.config.limits.tenantQuotaBytes;
  const reserved = plans.reduce((sum, plan) => sum + plan.size, 0);
  const used = await media.tenantBytes(principal.tenant);
  if (used + reserved > quota) {
    throw new MediaError(
      'QUOTA_EXCEEDED',
      `This school's storage quota of ${quota} bytes would be exceeded: ${used} bytes are in use or reserved, ${reserved} more asked for.`,
    );
  }
}
