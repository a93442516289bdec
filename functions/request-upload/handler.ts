import { BatchUploadRequest, CompleteUploadRequest, fromZodError, MediaError, MediaIdParam, PartUrlsRequest, UploadRequest } from '@media/core';
import { abortUpload, completeUpload, listUploadedParts, requestUploads, signUploadParts } from '@media/service';
import { apiHandler, created, noContent, ok } from '../shared/api-handler';

const mediaId = (params: Record<string, string>) => {
  const id = MediaIdParam.safeParse(params.id);
  // A malformed id names nothing that exists: same answer as an unknown one.
  if (!id.success) throw new MediaError('NOT_FOUND', 'No such multipart upload of yours.');
  return id.data;
};

/**
 * POST /v1/uploads and POST /v1/uploads/batch: a pending row and a presigned POST (or a multipart
 * upload) per item; and the multipart upload's own routes: sign parts, list them, complete, abort.
 */
export const handler = apiHandler(async ({ principal, body, params, routeKey }, deps) => {
  switch (routeKey) {
    case 'POST /v1/uploads/batch': {
      const request = BatchUploadRequest.safeParse(body);
      if (!request.success) throw fromZodError(request.error);
      return created({ items: await requestUploads(deps, principal, request.data.items) });
    }
    case 'POST /v1/uploads/{id}/parts': {
      const request = PartUrlsRequest.safeParse(body);
      if (!request.success) throw fromZodError(request.error);
      return ok(await signUploadParts(deps, principal, mediaId(params), request.data.partNumbers));
    }
    case 'GET /v1/uploads/{id}/parts':
      return ok(await listUploadedParts(deps, principal, mediaId(params)));
    case 'POST /v1/uploads/{id}/complete': {
      const request = CompleteUploadRequest.safeParse(body);
      if (!request.success) throw fromZodError(request.error);
      return ok(await completeUpload(deps, principal, mediaId(params), request.data));
    }
    case 'DELETE /v1/uploads/{id}':
      await abortUpload(deps, principal, mediaId(params));
      return noContent();
    default: {
      const request = UploadRequest.safeParse(body);
      if (!request.success) throw fromZodError(request.error);
      const [ticket] = await requestUploads(deps, principal, [request.data]);
      return created(ticket);
    }
  }
});
