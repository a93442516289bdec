// The route table lives in the domain (packages/core/src/routes.ts), with the OpenAPI document's schemas.
export { API_ROUTES, matchRoute, methodsAt, routeKeyOf, type ApiFunctionName, type ApiRouteSpec } from '@media/core';
