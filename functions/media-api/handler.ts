import {
  AuditQuery,
  ConsentBody,
  fromZodError,
  JobIdParam,
  LegalHoldBody,
  ListQuery,
  MediaError,
  MediaIdParam,
  RetentionPreviewQuery,
  SubjectIdParam,
  UsageQuery,
} from '@media/core';
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
  setLegalHold,
  usage,
} from '@media/service';
import { edgeInvalidation } from '../shared/edge-invalidation';
import { accepted, apiHandler, noContent, ok } from '../shared/api-handler';

const mediaId = (params: Record<string, string>) => {
  const id = MediaIdParam.safeParse(params.id);
  // A malformed id names nothing that exists: same answer as an unknown one.
  if (!id.success) throw new MediaError('NOT_FOUND', 'No such media.');
  return id.data;
};

const subjectId = (params: Record<string, string>) => {
  const id = SubjectIdParam.safeParse(params.subjectId);
  if (!id.success) throw fromZodError(id.error, 'subjectId');
  return id.data;
};

const jobId = (value: string | undefined, what: string) => {
  const id = JobIdParam.safeParse(value);
  if (!id.success) throw new MediaError('NOT_FOUND', `No such ${what}.`);
  return id.data;
};

/** The media record routes: get, list, delete, legal hold, usage; the rights (consent, audit, retention, erasure, export); and, without a token, health and the contract. */
export const handler = apiHandler(async ({ principal, params, query, body, routeKey, requestId }, deps) => {
  switch (routeKey) {
    case 'GET /v1/media/{id}':
      return ok(await getMedia(deps, principal, mediaId(params)));
    case 'GET /v1/media': {
      const parsed = ListQuery.safeParse(query);
      if (!parsed.success) throw fromZodError(parsed.error, 'query');
      return ok(await listMedia(deps, principal, parsed.data));
    }
    case 'DELETE /v1/media/{id}':
      await deleteMedia(deps, principal, mediaId(params), requestId);
      return noContent();
    case 'PUT /v1/media/{id}/legal-hold': {
      const parsed = LegalHoldBody.safeParse(body);
      if (!parsed.success) throw fromZodError(parsed.error);
      return ok(await setLegalHold(deps, principal, mediaId(params), parsed.data.hold, requestId));
    }
    case 'GET /v1/usage': {
      const parsed = UsageQuery.safeParse(query);
      if (!parsed.success) throw fromZodError(parsed.error, 'query');
      return ok(await usage(deps, principal, parsed.data.groupBy));
    }
    case 'GET /v1/subjects/{subjectId}/consent':
      return ok(await getConsent(deps, principal, subjectId(params)));
    case 'PUT /v1/subjects/{subjectId}/consent': {
      const parsed = ConsentBody.safeParse(body);
      if (!parsed.success) throw fromZodError(parsed.error);
      return ok(await setConsent(deps, principal, subjectId(params), parsed.data, requestId));
    }
    case 'GET /v1/audit': {
      const parsed = AuditQuery.safeParse(query);
      if (!parsed.success) throw fromZodError(parsed.error, 'query');
      return ok(await listAudit(deps, principal, parsed.data));
    }
    case 'GET /v1/retention/preview': {
      const parsed = RetentionPreviewQuery.safeParse(query);
      if (!parsed.success) throw fromZodError(parsed.error, 'query');
      return ok(await retentionPreview(deps, principal, parsed.data.withinDays));
    }
    case 'POST /v1/subjects/{subjectId}/erasure':
      return accepted(await requestErasure(deps, principal, subjectId(params), requestId));
    case 'GET /v1/erasures/{erasureId}':
      return ok(await getErasure(deps, principal, jobId(params.erasureId, 'erasure')));
    case 'POST /v1/subjects/{subjectId}/export':
      return accepted(await requestExport(deps, principal, subjectId(params), requestId));
    case 'GET /v1/exports/{exportId}':
      return ok(await getExport(deps, principal, jobId(params.exportId, 'export'), requestId));
    default:
      throw new MediaError('NOT_FOUND', `No route ${routeKey}.`);
  }
}, {
  publicRoutes: {
    'GET /health': () => ok({ status: 'ok' }),
    // Loaded when asked for, not at cold start: the document's own schemas and zod-openapi are
    // evaluated by no other route.
    'GET /openapi.json': async () => ok((await import('@media/core/openapi')).openApiDocument()),
  },
  extras: edgeInvalidation,
});
