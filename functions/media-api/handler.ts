import { MEDIA_ROUTES } from '@media/core';
import {
  deleteMedia,
  getConsent,
  getErasure,
  getExport,
  getMedia,
  listAudit,
  listMedia,
  requestErasure,
  requestExport,
  retentionPreview,
  setConsent,
  getSchoolSettings,
  setLegalHold,
  setSchoolSettings,
  usage,
} from '@media/service';
import { edgeInvalidation } from '../shared/edge-invalidation';
import { apiHandler } from '../shared/api-handler';
import { combinedExtras } from '../shared/cold-start';
import { messaging } from '../shared/messaging';

/**
 * The media record routes: get, list, delete, legal hold, usage; the rights (consent, audit,
 * retention, erasure, export); and, without a token, health and the contract. Input arrives parsed
 * by the route table (routes.ts).
 */
export const handler = apiHandler(
  'media-api',
  MEDIA_ROUTES,
  {
    getMedia: ({ principal, params }, deps) => getMedia(deps, principal, params.id),
    listMedia: ({ principal, query }, deps) => listMedia(deps, principal, query),
    deleteMedia: ({ principal, params, requestId }, deps) => deleteMedia(deps, principal, params.id, requestId),
    setLegalHold: ({ principal, params, body, requestId }, deps) => setLegalHold(deps, principal, params.id, body.hold, requestId),
    usage: ({ principal, query }, deps) => usage(deps, principal, query.groupBy),
    getConsent: ({ principal, params }, deps) => getConsent(deps, principal, params.subjectId),
    setConsent: ({ principal, params, body, requestId }, deps) => setConsent(deps, principal, params.subjectId, body, requestId),
    getSchoolSettings: ({ principal }, deps) => getSchoolSettings(deps, principal),
    setSchoolSettings: ({ principal, body, requestId }, deps) => setSchoolSettings(deps, principal, body, requestId),
    listAudit: ({ principal, query }, deps) => listAudit(deps, principal, query),
    previewRetention: ({ principal, query }, deps) => retentionPreview(deps, principal, query.withinDays),
    requestErasure: ({ principal, params, requestId }, deps) => requestErasure(deps, principal, params.subjectId, requestId),
    getErasure: ({ principal, params }, deps) => getErasure(deps, principal, params.erasureId),
    requestExport: ({ principal, params, requestId }, deps) => requestExport(deps, principal, params.subjectId, requestId),
    getExport: ({ principal, params, requestId }, deps) => getExport(deps, principal, params.exportId, requestId),
    health: () => ({ status: 'ok' }),
    // The document (zod-openapi, and the schemas of every function's routes) is a chunk of the bundle
    // of its own (infra/lib/media-function.ts splits it off): loaded on the first GET /openapi.json,
    // not at every cold start.
    openApiDocument: async () => (await import('@media/core/openapi')).openApiDocument(),
  },
  { extras: combinedExtras(edgeInvalidation, messaging) },
);
