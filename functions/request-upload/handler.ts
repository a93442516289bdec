import { BatchUploadRequest, fromZodError, UploadRequest } from '@media/core';
import { requestUploads } from '@media/service';
import { apiHandler, created } from '../shared/api-handler';

/** POST /v1/uploads and POST /v1/uploads/batch: a pending row and a presigned POST per item. */
export const handler = apiHandler(async ({ principal, body, routeKey }, deps) => {
  if (routeKey.endsWith('/batch')) {
    const request = BatchUploadRequest.safeParse(body);
    if (!request.success) throw fromZodError(request.error);
    return created({ items: await requestUploads(deps, principal, request.data.items) });
  }
  const request = UploadRequest.safeParse(body);
  if (!request.success) throw fromZodError(request.error);
  const [ticket] = await requestUploads(deps, principal, [request.data]);
  return created(ticket);
});
