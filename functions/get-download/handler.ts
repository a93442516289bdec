import { DownloadQuery, DownloadUrlsRequest, fromZodError, MediaIdParam, MediaError } from '@media/core';
import { downloadUrl, downloadUrls } from '@media/service';
import { cdnSigner } from '../shared/cdn-signer';
import { apiHandler, ok } from '../shared/api-handler';

/**
 * GET /v1/media/{id}/download?variant=…: policy check, then a short-lived URL (CloudFront signed
 * for derivatives when a CDN is configured, S3 presigned otherwise).
 * POST /v1/media/download-urls: the same for up to 100 ids, one decision per item.
 */
export const handler = apiHandler(async ({ principal, params, query, body, routeKey, requestId }, deps) => {
  if (routeKey === 'POST /v1/media/download-urls') {
    const request = DownloadUrlsRequest.safeParse(body);
    if (!request.success) throw fromZodError(request.error, 'body');
    return ok(await downloadUrls(deps, principal, request.data.ids, request.data.variant, requestId));
  }
  const id = MediaIdParam.safeParse(params.id);
  if (!id.success) throw new MediaError('NOT_FOUND', 'No such media.');
  const parsed = DownloadQuery.safeParse(query);
  if (!parsed.success) throw fromZodError(parsed.error, 'query');
  return ok(await downloadUrl(deps, principal, id.data, parsed.data.variant, requestId));
}, { extras: async (config) => ({ cdn: await cdnSigner(config) }) });
