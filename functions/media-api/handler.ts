import { fromZodError, LegalHoldBody, ListQuery, MediaError, MediaIdParam, UsageQuery } from '@media/core';
import { openApiDocument } from '@media/core/openapi';
import { deleteMedia, getMedia, listMedia, setLegalHold, usage } from '@media/service';
import { edgeInvalidation } from '../shared/edge-invalidation';
import { apiHandler, noContent, ok } from '../shared/api-handler';

const mediaId = (params: Record<string, string>) => {
  const id = MediaIdParam.safeParse(params.id);
  // A malformed id names nothing that exists: same answer as an unknown one.
  if (!id.success) throw new MediaError('NOT_FOUND', 'No such media.');
  return id.data;
};

/** The media record routes: get, list, delete, legal hold, usage; and, without a token, health and the contract. */
export const handler = apiHandler(async ({ principal, params, query, body, routeKey }, deps) => {
  switch (routeKey) {
    case 'GET /v1/media/{id}':
      return ok(await getMedia(deps, principal, mediaId(params)));
    case 'GET /v1/media': {
      const parsed = ListQuery.safeParse(query);
      if (!parsed.success) throw fromZodError(parsed.error, 'query');
      return ok(await listMedia(deps, principal, parsed.data));
    }
    case 'DELETE /v1/media/{id}':
      await deleteMedia(deps, principal, mediaId(params));
      return noContent();
    case 'PUT /v1/media/{id}/legal-hold': {
      const parsed = LegalHoldBody.safeParse(body);
      if (!parsed.success) throw fromZodError(parsed.error);
      return ok(await setLegalHold(deps, principal, mediaId(params), parsed.data.hold));
    }
    case 'GET /v1/usage': {
      const parsed = UsageQuery.safeParse(query);
      if (!parsed.success) throw fromZodError(parsed.error, 'query');
      return ok(await usage(deps, principal, parsed.data.groupBy));
    }
    default:
      throw new MediaError('NOT_FOUND', `No route ${routeKey}.`);
  }
}, {
  publicRoutes: {
    'GET /health': () => ok({ status: 'ok' }),
    'GET /openapi.json': () => ok(openApiDocument()),
  },
  extras: edgeInvalidation,
});
