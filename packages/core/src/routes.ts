import type * as z from 'zod/mini';
import { fromZodError } from './problem';
import type { API_ROUTES } from './api-routes';
import { PATH_PARAMETERS, type ApiFunctionName, type ApiRouteSpec } from './route-spec';

type PathParameterName = keyof typeof PATH_PARAMETERS;
/** The names in a path's `{…}` segments, as a type: `'/v1/media/{id}'` → `'id'`. */
type PathParameterNames<P extends string> = P extends `${string}{${infer N}}${infer Rest}` ? N | PathParameterNames<Rest> : never;

export type ApiRoute = (typeof API_ROUTES)[number];
export type OperationId = ApiRoute['operationId'];
/** The routes one function serves. */
export type RoutesOf<F extends ApiFunctionName> = Extract<ApiRoute, { fn: F }>;

type Parsed<S> = S extends z.ZodMiniType ? z.output<S> : undefined;
/** What a route's handler receives: its path parameters, query and body, each parsed by the route's own schema. */
export interface RouteInput<R extends ApiRoute> {
  params: { [K in PathParameterNames<R['path']> & PathParameterName]: z.output<(typeof PATH_PARAMETERS)[K]['schema']> };
  query: Parsed<R extends { query: infer Q } ? Q : undefined>;
  body: Parsed<R extends { body: infer B } ? B : undefined>;
}

/**
 * A request's raw path parameters, query and body, parsed by its route's schemas: the only place
 * that turns outside input into the types the handlers see. A refusal is a MediaError.
 */
export function parseRouteInput<R extends ApiRoute>(
  route: R,
  raw: { params: Record<string, string | undefined>; query: Record<string, string | undefined>; body: unknown },
): RouteInput<R> {
  const params: Record<string, string> = {};
  for (const [, name] of route.path.matchAll(/\{(\w+)\}/g)) {
    const parameter = PATH_PARAMETERS[name as PathParameterName];
    const parsed = parameter.schema.safeParse(raw.params[name as string]);
    if (!parsed.success) throw parameter.refused?.(route.path) ?? fromZodError(parsed.error, name);
    params[name as string] = parsed.data;
  }
  const spec: ApiRouteSpec = route;
  const parse = (schema: z.ZodMiniType | undefined, value: unknown, where: string) => {
    if (!schema) return undefined;
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw fromZodError(parsed.error, where);
    return parsed.data;
  };
  return {
    params,
    query: parse(spec.query, raw.query, 'query'),
    body: parse(spec.body, raw.body, 'body'),
  } as RouteInput<R>;
}

export const routeKeyOf = (route: Pick<ApiRouteSpec, 'method' | 'path'>) => `${route.method} ${route.path}`;

/** Lookups over a table of routes (one function's, or all of them). */
export interface RouteLookup {
  /** The route an API Gateway route key (`GET /v1/media/{id}`) names. */
  byKey(routeKey: string): ApiRoute | undefined;
  /**
   * The route a raw method and path name, with its decoded path parameters: for callers that see
   * no route key (a Lambda function URL sends every request as `$default`).
   */
  match(method: string, path: string): { route: ApiRoute; params: Record<string, string> } | undefined;
  /** The methods routes serve on this path: where a request's method is not among them, 405, not 404. */
  methodsAt(path: string): string[];
}

export function routeLookup(routes: readonly ApiRoute[]): RouteLookup {
  const byKey = new Map<string, ApiRoute>(routes.map((route) => [routeKeyOf(route), route]));
  const patterns = routes.map((route) => ({
    route,
    regex: new RegExp(`^${route.path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`),
  }));
  return {
    byKey: (routeKey) => byKey.get(routeKey),
    match(method, path) {
      for (const { route, regex } of patterns) {
        const match = route.method === method ? regex.exec(path) : null;
        if (!match) continue;
        try {
          return { route, params: Object.fromEntries(Object.entries(match.groups ?? {}).map(([k, v]) => [k, decodeURIComponent(v)])) };
        } catch {
          return undefined; // a malformed escape names nothing
        }
      }
      return undefined;
    },
    methodsAt: (path) => patterns.filter(({ regex }) => regex.test(path)).map(({ route }) => route.method),
  };
}
