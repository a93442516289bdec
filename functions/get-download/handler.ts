import { DownloadQuery, fromZodError, MediaIdParam, MediaError } from '@media/core';
import { downloadUrl } from '@media/service';
import { apiHandler, ok } from '../shared/api-handler';

/** GET /v1/media/{id}/download?variant=…: policy check, then a short-lived presigned GET. */
export const handler = apiHandler(async ({ principal, params, query, requestId }, deps) => {
  const id = MediaIdParam.safeParse(params.id);
  if (!id.success) throw new MediaError('NOT_FOUND', 'No such media.');
  const parsed = DownloadQuery.safeParse(query);
  if (!parsed.success) throw fromZodError(parsed.error, 'query');
  return ok(await downloadUrl(deps, principal, id.data, parsed.data.variant, requestId));
});
