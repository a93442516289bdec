import { DownloadAnswer, DownloadQuery, DownloadUrlsAnswer, DownloadUrlsRequest } from './contract';
import { AUTH, type ApiRouteSpec } from './route-spec';

/** get-download's routes: short-lived URLs, one or a gallery's worth. */
export const DOWNLOAD_ROUTES = [
  {
    method: 'GET',
    path: '/v1/media/{id}/download',
    fn: 'get-download',
    operationId: 'downloadUrl',
    summary: 'A short-lived presigned GET for one variant',
    query: DownloadQuery,
    answer: { status: 200, schema: DownloadAnswer, description: 'The URL and when it expires.' },
    errors: ['VALIDATION_FAILED', ...AUTH, 'FORBIDDEN', 'NOT_FOUND', 'NOT_READY', 'CONSENT_REQUIRED'],
  },
  {
    method: 'POST',
    path: '/v1/media/download-urls',
    fn: 'get-download',
    operationId: 'downloadUrls',
    summary: 'Short-lived URLs for up to 100 items (a gallery), one policy decision per item',
    body: DownloadUrlsRequest,
    answer: {
      status: 200,
      schema: DownloadUrlsAnswer,
      description: 'One entry per id, in order: its URL, or why not (NOT_FOUND, FORBIDDEN, NOT_READY).',
    },
    errors: ['VALIDATION_FAILED', ...AUTH, 'PAYLOAD_TOO_LARGE'],
  },
] as const satisfies readonly ApiRouteSpec[];
