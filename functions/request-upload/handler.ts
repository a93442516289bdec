import { UPLOAD_ROUTES } from '@media/core';
import { abortUpload, completeUpload, listUploadedParts, requestUploads, signUploadParts } from '@media/service';
import { apiHandler } from '../shared/api-handler';

/**
 * POST /v1/uploads and POST /v1/uploads/batch: a pending row and a presigned POST (or a multipart
 * upload) per item; and the multipart upload's own routes: sign parts, list them, complete, abort.
 */
export const handler = apiHandler('request-upload', UPLOAD_ROUTES, {
  requestUpload: async ({ principal, body }, deps) => (await requestUploads(deps, principal, [body]))[0],
  requestUploads: async ({ principal, body }, deps) => ({ items: await requestUploads(deps, principal, body.items) }),
  signUploadParts: ({ principal, params, body }, deps) => signUploadParts(deps, principal, params.id, body.partNumbers),
  listUploadParts: ({ principal, params }, deps) => listUploadedParts(deps, principal, params.id),
  completeUpload: ({ principal, params, body }, deps) => completeUpload(deps, principal, params.id, body),
  abortUpload: ({ principal, params }, deps) => abortUpload(deps, principal, params.id),
});
