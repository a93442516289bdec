import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { MAX_REQUEST_BODY_BYTES, MediaError, matchRoute, problemResponse, routeKeyOf, toMediaError, type Principal } from '@media/core';
import type { Dependencies } from '@media/service';
import { dependenciesFromEnvironment, resolveDependencies, type ColdStartExtras, type DependencySource } from './cold-start';
import { logger, metrics } from './observability';

export interface ApiRequest {
  principal: Principal;
  body: unknown;
  query: Record<string, string>;
  params: Record<string, string>;
  routeKey: string;
  requestId: string;
}

export interface ApiResult {
  statusCode: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type ApiRoute = (request: ApiRequest, deps: Dependencies) => Promise<ApiResult>;
/** Routes answered without a token or dependencies, by route key (see `public` in routes.ts). */
export type PublicRoutes = Record<string, () => ApiResult | Promise<ApiResult>>;
export type LambdaApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export const ok = (body: unknown): ApiResult => ({ statusCode: 200, body });
export const created = (body: unknown): ApiResult => ({ statusCode: 201, body });
export const accepted = (body: unknown): ApiResult => ({ statusCode: 202, body });
export const noContent = (): ApiResult => ({ statusCode: 204 });

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
function routeOf(event: APIGatewayProxyEventV2): { routeKey: string; params: Record<string, string> } {
  if (event.routeKey !== '$default') return { routeKey: event.routeKey, params: { ...(event.pathParameters ?? {}) } as Record<string, string> };
  const match = matchRoute(event.requestContext.http.method, event.rawPath);
  if (!match) throw new MediaError('NOT_FOUND', `No route for ${event.rawPath}.`);
  return { routeKey: routeKeyOf(match.route), params: match.params };
}

/**
 * The one middy stack of the API functions: logger context (request id, media id), metrics, the
 * bearer token, JSON parsing, and every error rendered as RFC 9457 problem+json. A route only
 * parses its input, authorizes, acts and answers.
 */
export interface ApiHandlerOptions {
  /** Routes answered without a token or dependencies. */
  publicRoutes?: PublicRoutes;
  /** What this function alone adds at cold start (its CDN signer, its edge invalidation). */
  extras?: ColdStartExtras;
}

export function apiHandler(route: ApiRoute, { publicRoutes = {}, extras }: ApiHandlerOptions = {}) {
  const build = (source: DependencySource): LambdaApiHandler => {
    const core = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
      const requestId = event.requestContext?.requestId ?? 'local';
      metrics.addMetric('Requests', MetricUnit.Count, 1);
      let deps: Dependencies | undefined;
      try {
        const { routeKey, params } = routeOf(event);
        const answerPublic = publicRoutes[routeKey];
        if (answerPublic) {
          const result = await answerPublic();
          return { statusCode: result.statusCode, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...result.headers }, body: JSON.stringify(result.body) };
        }
        deps = await resolveDependencies(source);
        const principal = await deps.verifyToken(header(event, 'authorization'));
        logger.appendKeys({ tenant: principal.tenant, principal: principal.sub, role: principal.role });
        if (params.id) logger.appendKeys({ mediaId: params.id });
        const result = await route(
          {
            principal,
            body: parseBody(event),
            query: { ...(event.queryStringParameters ?? {}) } as Record<string, string>,
            params,
            routeKey,
            requestId,
          },
          deps,
        );
        return {
          statusCode: result.statusCode,
          headers: {
            ...(result.body === undefined ? {} : { 'content-type': 'application/json' }),
            'cache-control': 'no-store',
            ...corsHeaders(event, deps),
            ...result.headers,
          },
          body: result.body === undefined ? '' : JSON.stringify(result.body),
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
