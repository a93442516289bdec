import {
  authorizeUpload,
  MediaError,
  newMediaId,
  planUpload,
  UPLOAD_URL_TTL_SECONDS,
  type Principal,
  type UploadPlan,
  type UploadRequest,
  type MultipartTicket,
  type UploadTicket,
} from '@media/core';
import type { HeldSpace, NewPendingMedia } from '@media/db';
import { incomingKey } from '@media/storage';
import { partPlan } from './multipart-upload';
import type { UploadPorts } from './ports';

type Deps = UploadPorts;

/**
 * Turns upload requests into pending rows and presigned POSTs. A batch is accepted or refused as a
 * whole (one statement): the rows are written, then the unfinished-upload limit and the quotas are
 * compared with figures read after the insert, under the counter locks the insert took (see
 * `MediaRepository.reserveUploads`): exact for a person's limits, and for the school's quota up to
 * what other shards of its counters reserve at the same moment. The POSTs are signed before, to
 * keep the locks short.
 */
export async function requestUploads(
  deps: Deps,
  principal: Principal,
  requests: UploadRequest[],
): Promise<(UploadTicket | MultipartTicket)[]> {
  const plans = requests.map((request) => {
    const plan = planUpload(principal, request, deps.config.limits);
    // Each person named is judged on its own: the caller must be allowed to tag every one of them.
    authorizeUpload(principal, { purpose: plan.purpose, subjectIds: plan.subjectIds, classroomId: plan.classroomId });
    return plan;
  });

  const signed = await Promise.all(plans.map((plan) => prepare(deps, principal, plan)));

  // The plan's fields are the row's (its size is the declared size); the rest says who, and where the bytes go.
  const rows = signed.map(
    ({ id, plan: { size, multipart: _, ...planned }, expiresAt, multipart }): NewPendingMedia => ({
      ...planned,
      id,
      tenant: principal.tenant,
      uploadedBy: principal.sub,
      declaredSize: size,
      // The row stops counting against the limit exactly when its POST (or its multipart upload) stops working.
      uploadExpiresAt: new Date(expiresAt),
      multipartUploadId: multipart?.uploadId ?? null,
      partSize: multipart?.partSize ?? null,
      partCount: multipart?.partCount ?? null,
    }),
  );
  const limits = {
    schoolQuotaBytes: deps.config.limits.tenantQuotaBytes,
    personQuotaBytes: hasPersonalCap(principal) ? deps.config.limits.personQuotaBytes : null,
    maxPending: pendingLimitOf(deps, plans),
  };
  try {
    // The database reserves and compares in one statement; a refusal comes back with its figures,
    // which say (in the order below) which limit it was.
    const refused = await deps.media.reserveUploads(rows, limits);
    if (refused) {
      checkPendingLimit(deps, refused.pendingExpiries, plans);
      checkQuota(deps, principal, plans, refused.held);
      throw new MediaError('INTERNAL', 'the database refused an upload the limits allow');
    }
  } catch (error) {
    // Refused: the multipart uploads started for it would otherwise wait for the lifecycle rule.
    await Promise.allSettled(
      signed.flatMap(({ id, multipart }) =>
        multipart ? [deps.storage.abortMultipartUpload(incomingKey(principal.tenant, id), multipart.uploadId)] : [],
      ),
    );
    throw error;
  }
  return signed.map(({ id, plan, upload, expiresAt, multipart }): UploadTicket | MultipartTicket =>
    multipart
      ? { mediaId: id, multipart, expiresAt, maxBytes: plan.size }
      : { mediaId: id, upload: { url: upload!.url, fields: upload!.fields }, expiresAt, maxBytes: plan.size },
  );
}

/** A presigned POST, or a started multipart upload (its parts are signed when the uploader asks). */
async function prepare(deps: Deps, principal: Principal, plan: UploadPlan) {
  const id = newMediaId();
  const key = incomingKey(principal.tenant, id);
  if (plan.multipart) {
    const uploadId = await deps.storage.createMultipartUpload(key, plan.contentType);
    const expiresAt = new Date(Date.now() + deps.config.limits.multipartUploadSeconds * 1000).toISOString();
    return { id, plan, expiresAt, upload: null, multipart: { uploadId, ...partPlan(plan.size, deps.config.limits.multipartPartBytes) } };
  }
  const upload = await deps.storage.presignUpload({
    key,
    contentType: plan.contentType,
    maxBytes: plan.size,
    expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
  });
  return { id, plan, expiresAt: upload.expiresAt, upload, multipart: null };
}

/**
 * A principal may hold at most `limit(purpose)` unfinished uploads, counting every item of a batch.
 * Uploads whose POST has expired no longer count; Retry-After says when enough of them will have.
 */
const pendingLimitOf = (deps: Deps, plans: UploadPlan[]) =>
  Math.min(...plans.map((plan) => deps.config.limits.maxPendingUploads[plan.purpose]));

function checkPendingLimit(deps: Deps, expiries: Date[], plans: UploadPlan[]): void {
  const limit = pendingLimitOf(deps, plans);
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

/** Students and teachers have a storage cap of their own; admins and services only the school's. */
export const hasPersonalCap = (principal: Principal) => principal.role === 'student' || principal.role === 'teacher';

/**
 * The space held (stored and reserved, as usage reports it) must fit the school's quota and, for a
 * person, their own cap. `held` already counts this request (read after its rows were written,
 * under the counter locks they took), so the figures in the message are those before it.
 */
function checkQuota(deps: Deps, principal: Principal, plans: UploadPlan[], held: HeldSpace): void {
  const asked = plans.reduce((sum, plan) => sum + plan.size, 0);
  const personCap = deps.config.limits.personQuotaBytes;
  if (hasPersonalCap(principal) && held.person > personCap) {
    throw new MediaError(
      'QUOTA_EXCEEDED',
      `Your personal storage limit of ${personCap} bytes would be exceeded: ${held.person - asked} bytes of what you uploaded ` +
        `are in use or reserved, ${asked} more asked for. Delete some of your uploads, or ask an admin.`,
    );
  }
  const quota = deps.config.limits.tenantQuotaBytes;
  if (held.school > quota) {
    throw new MediaError(
      'QUOTA_EXCEEDED',
      `This school's storage quota of ${quota} bytes would be exceeded: ${held.school - asked} bytes are in use or reserved, ${asked} more asked for.`,
    );
  }
}
