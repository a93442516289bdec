/**
 * The HTTP API's routes (docs/architecture.md § Contract) and the function behind each: one table for the CDK HTTP
 * API and for the local server, so the two cannot drift apart.
 */
export type ApiFunctionName = 'request-upload' | 'get-download' | 'media-api';

export interface ApiRouteSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  fn: ApiFunctionName;
  /** Answered without a token (health checks, the contract). */
  public?: true;
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
  { method: 'GET', path: '/health', fn: 'media-api', public: true },
  { method: 'GET', path: '/openapi.json', fn: 'media-api', public: true },
];

export const routeKeyOf = (route: ApiRouteSpec) => `${route.method} ${route.path}`;

const PATTERNS = API_ROUTES.map((route) => ({
  route,
  regex: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
}));

/**
 * The route a raw method and path name, with its decoded path parameters: for callers that see
 * no route key (a Lambda function URL sends every request as `$default`).
 */
export function matchRoute(method: string, path: string): { route: ApiRouteSpec; params: Record<string, string> } | undefined {
  for (const { route, regex } of PATTERNS) {
    const match = route.method === method ? regex.exec(path) : null;
    if (!match) continue;
    try {
      return { route, params: Object.fromEntries(Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)])) };
    } catch {
      return undefined; // a malformed escape names nothing
    }
  }
  return undefined;
}

/** The methods routes serve on this path: where a request's method is not among them, 405, not 404. */
export const methodsAt = (path: string): string[] => PATTERNS.filter(({ regex }) => regex.test(path)).map(({ route }) => route.method);
