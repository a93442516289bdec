import { DOWNLOAD_ROUTES } from '@media/core';
import { downloadUrl, downloadUrls } from '@media/service';
import { cdnSigner } from '../shared/cdn-signer';
import { apiHandler } from '../shared/api-handler';

/**
 * GET /v1/media/{id}/download?variant=…: policy check, then a short-lived URL (CloudFront signed
 * for derivatives when a CDN is configured, S3 presigned otherwise).
 * POST /v1/media/download-urls: the same for up to 100 ids, one decision per item.
 */
export const handler = apiHandler(
  'get-download',
  DOWNLOAD_ROUTES,
  {
    downloadUrl: ({ principal, params, query, requestId }, deps) => downloadUrl(deps, principal, params.id, query.variant, requestId),
    downloadUrls: ({ principal, body, requestId }, deps) => downloadUrls(deps, principal, body.ids, body.variant, requestId),
  },
  { extras: async (config) => ({ cdn: await cdnSigner(config) }) },
);
