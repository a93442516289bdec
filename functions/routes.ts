/**
 * The HTTP API's routes (DESIGN.md §4) and the function behind each: one table for the CDK HTTP
 * API and for the local server, so the two cannot drift apart.
 */
export type ApiFunctionName = 'request-upload' | 'get-download' | 'media-api';

export interface ApiRouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fn: ApiFunctionName;
}

export const API_ROUTES: readonly ApiRouteSpec[] = [
  { method: 'POST', path: '/v1/uploads', fn: 'request-upload' },
  { method: 'POST', path: '/v1/uploads/batch', fn: 'request-upload' },
  { method: 'GET', path: '/v1/media', fn: 'media-api' },
  { method: 'GET', path: '/v1/media/{id}', fn: 'media-api' },
  { method: 'DELETE', path: '/v1/media/{id}', fn: 'media-api' },
  { method: 'PUT', path: '/v1/media/{id}/legal-hold', fn: 'media-api' },
  { method: 'GET', path: '/v1/media/{id}/download', fn: 'get-download' },
  { method: 'GET', path: '/v1/usage', fn: 'media-api' },
];

export const routeKeyOf = (route: ApiRouteSpec) => `${route.method} ${route.path}`;
