import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import {
  MAX_REQUEST_BODY_BYTES,
  MediaError,
  parseRouteInput,
  problemResponse,
  routeLookup,
  toMediaError,
  type ApiFunctionName,
  type ApiRoute,
  type Principal,
  type RouteInput,
  type RouteLookup,
  type RoutesOf,
} from '@media/core';
import type { Dependencies } from '@media/service';
import { dependenciesFromEnvironment, resolveDependencies, type ColdStartExtras, type DependencySource } from './cold-start';
import { logger, metrics } from './observability';

/** A route's handler: its parsed input in, the answer's body out (the status is the route's). */
export type RouteHandler<R extends ApiRoute> = R extends { public: true }
  ? () => unknown | Promise<unknown>
  : (request: RouteInput<R> & { principal: Principal; requestId: string }, deps: Dependencies) => Promise<unknown>;

/** One handler per route the function serves, by operation id: a missing or unknown one does not compile. */
export type RouteHandlers<F extends ApiFunctionName> = {
  [K in RoutesOf<F>['operationId']]: RouteHandler<Extract<RoutesOf<F>, { operationId: K }>>;
};

export type LambdaApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Answers served again unchanged (kept usage figures) come frozen, all the way down: such an
 * answer is written as JSON once, not on every request (3,300 figures are 150 kB, half a
 * millisecond of the request's CPU). Anything else is written afresh.
 */
const writtenAnswers = new WeakMap<object, string>();
function answerJson(answer: unknown): string {
  if (answer === null || typeof answer !== 'object' || !Object.isFrozen(answer)) return JSON.stringify(answer);
  let written = writtenAnswers.get(answer);
  if (written === undefined) {
    written = JSON.stringify(answer);
    writtenAnswers.set(answer, written);
  }
  return written;
}

function parseBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  // API Gateway hands over up to 10 MB; the API reads 1 MiB, counted as the bytes that were sent.
  const size = Buffer.byteLength(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (size > MAX_REQUEST_BODY_BYTES) {
    throw new MediaError('PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_REQUEST_BODY_BYTES} bytes (1 MiB).`);
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new MediaError('VALIDATION_FAILED', 'The request body is not valid JSON.');
  }
}

const header = (event: APIGatewayProxyEventV2, name: string): string | undefined => {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
};

function corsHeaders(event: APIGatewayProxyEventV2, deps: Dependencies | undefined): Record<string, string> {
  const origin = header(event, 'origin');
  const allowed = deps?.config.allowedOrigins ?? [];
  if (!origin || !allowed.includes(origin)) return {};
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

/**
 * The route of a request. Behind the HTTP API the event names it; behind a Lambda function URL (the
 * LocalStack profile) every request arrives as `$default`, so it is found from the raw path.
 */
function routeOf(
  event: APIGatewayProxyEventV2,
  fn: ApiFunctionName,
  routes: RouteLookup,
): { route: ApiRoute; params: Record<string, string | undefined> } {
  const found =
    event.routeKey === '$default'
      ? routes.match(event.requestContext.http.method, event.rawPath)
      : { route: routes.byKey(event.routeKey), params: { ...(event.pathParameters ?? {}) } };
  // A route of another function never reaches this one behind the HTTP API; answer as for no route.
  if (!found?.route || found.route.fn !== fn) throw new MediaError('NOT_FOUND', `No route for ${event.rawPath}.`);
  return { route: found.route, params: found.params };
}

/**
 * The caller, from the bearer token. A request without a valid one draws on the budget of all such
 * requests (never a school's): past it, the answer is 429 instead of 401.
 */
async function verified(deps: Dependencies, authorization: string | undefined): Promise<Principal> {
  try {
    return await deps.verifyToken(authorization);
  } catch (error) {
    if (toMediaError(error).code === 'UNAUTHENTICATED') deps.throttle.admitUnauthenticated();
    throw error;
  }
}

/**
 * The one middy stack of the API functions: logger context (request id, media id), metrics, the
 * bearer token, the route's input parsed by its schemas (routes.ts), and every error rendered as
 * RFC 9457 problem+json. A handler only authorizes, acts and answers.
 */
export interface ApiHandlerOptions {
  /** What this function alone adds at cold start (its CDN signer, its edge invalidation). */
  extras?: ColdStartExtras;
}

/**
 * `routes` is the function's own table (UPLOAD_ROUTES, …): routing by it alone, the bundle builds
 * the schemas of no other function's routes at cold start.
 */
export function apiHandler<F extends ApiFunctionName>(
  fn: F,
  routes: readonly RoutesOf<NoInfer<F>>[],
  handlers: RouteHandlers<NoInfer<F>>,
  { extras }: ApiHandlerOptions = {},
) {
  // Node loads its fetch implementation (undici, about 25 ms) when `Headers` is first touched; the
  // token verifier's JWKS set (jose) makes one when the first request builds the dependencies. The
  // one-file bundle loaded it at init through its static `node:http` import; split, nothing on the
  // init path does, so it is loaded here, at init, and the first request does not grow by it.
  void globalThis.Headers;
  const lookup = routeLookup(routes);
  const handlerOf = (route: ApiRoute) => {
    const handle = (handlers as Record<string, ((...args: unknown[]) => unknown) | undefined>)[route.operationId];
    if (!handle) throw new MediaError('NOT_FOUND', `No route ${route.method} ${route.path}.`);
    return handle;
  };
  const build = (source: DependencySource): LambdaApiHandler => {
    const core = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
      const requestId = event.requestContext?.requestId ?? 'local';
      metrics.addMetric('Requests', MetricUnit.Count, 1);
      let deps: Dependencies | undefined;
      try {
        const { route, params } = routeOf(event, fn, lookup);
        const handle = handlerOf(route);
        deps = await resolveDependencies(source);
        if ('public' in route) {
          // No token to name a school: such requests share one budget, so they cannot use up a school's.
          deps.throttle.admitUnauthenticated();
          return {
            statusCode: route.answer.status,
            headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
            body: JSON.stringify(await handle()),
          };
        }
        const principal = await verified(deps, header(event, 'authorization'));
        // Counted against the school the verified token names, before any database work.
        deps.throttle.admitSchool(principal.tenant);
        logger.appendKeys({ tenant: principal.tenant, principal: principal.sub, role: principal.role });
        if (params.id) logger.appendKeys({ mediaId: params.id });
        const input = parseRouteInput(route, { params, query: { ...(event.queryStringParameters ?? {}) }, body: parseBody(event) });
        const answer = await handle({ ...input, principal, requestId }, deps);
        const status = route.answer.status;
        return {
          statusCode: status,
          headers: {
            ...(status === 204 ? {} : { 'content-type': 'application/json' }),
            'cache-control': 'no-store',
            ...corsHeaders(event, deps),
          },
          body: status === 204 ? '' : answerJson(answer),
        };
      } catch (error) {
        const mediaError = toMediaError(error);
        if (mediaError.code === 'INTERNAL') {
          logger.error('request failed', { error: error as Error });
        } else {
          logger.info('request refused', { code: mediaError.code, detail: mediaError.message });
        }
        metrics.addMetric(`Problem${mediaError.status}`, MetricUnit.Count, 1);
        const problem = problemResponse(mediaError, event.rawPath);
        return { ...problem, headers: { ...problem.headers, ...corsHeaders(event, deps) } };
      }
    };
    return middy(core)
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(logMetrics(metrics)) as unknown as LambdaApiHandler;
  };

  const handler = build(dependenciesFromEnvironment(extras)) as LambdaApiHandler & {
    withDependencies: (deps: DependencySource) => LambdaApiHandler;
  };
  handler.withDependencies = build;
  return handler;
}
