import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import { MAX_REQUEST_BODY_BYTES, MediaError, matchRoute, methodsAt, problemResponse, routeKeyOf, type ApiFunctionName } from '@media/core';

export type ApiLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface HttpServerOptions {
  host: string;
  port: number;
  functions: Record<ApiFunctionName, ApiLambda>;
  isAllowedOrigin: (origin: string) => boolean;
  /** Extra unauthenticated GET pages (the upload page); health and OpenAPI are API routes. */
  staticRoutes: Record<string, () => { contentType: string; body: string }>;
}

/** The API's request body limit, as the Lambda handler enforces it in AWS. */
const MAX_BODY_BYTES = MAX_REQUEST_BODY_BYTES;
/** Past this, a sender is not making a mistake: stop listening rather than drain forever. */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

const bodyTooLarge = () => new MediaError('PAYLOAD_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes (1 MiB).`);

/**
 * The body, or PAYLOAD_TOO_LARGE once it passes 1 MiB. The rest is read and thrown away before the
 * answer goes out: a server that closes on a client still sending makes the client see a reset
 * connection, not the 413.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (size > MAX_DRAINED_BYTES) {
        reject(bodyTooLarge());
        req.destroy();
      }
    });
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(bodyTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/**
 * The local HTTP API: each request becomes the API Gateway v2 event the HTTP API would send, for
 * the same handler the Lambda runs. CORS is answered here, as the HTTP API does in AWS.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<{ url: string; server: Server; stop(): Promise<void> }> {
  const send = (res: ServerResponse, status: number, headers: Record<string, string>, body: string) => {
    res.writeHead(status, headers);
    res.end(body);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const origin = req.headers.origin;
    const cors: Record<string, string> =
      origin && options.isAllowedOrigin(origin)
        ? {
            'access-control-allow-origin': origin,
            'access-control-allow-methods': 'GET,POST,PUT,DELETE,OPTIONS',
            'access-control-allow-headers': 'authorization,content-type',
            'access-control-expose-headers': 'retry-after',
            'access-control-max-age': '600',
            vary: 'Origin',
          }
        : {};
    try {
      if (req.method === 'OPTIONS') return send(res, 204, cors, '');

      const page = req.method === 'GET' ? options.staticRoutes[url.pathname] : undefined;
      if (page) {
        const { contentType, body } = page();
        return send(res, 200, { 'content-type': contentType, 'cache-control': 'no-store', ...cors }, body);
      }

      const match = matchRoute(req.method ?? '', url.pathname);
      if (!match) {
        const methods = methodsAt(url.pathname);
        // A served method that found nothing had a path parameter that names nothing (a bad escape).
        if (methods.length > 0 && !methods.includes(req.method ?? '')) {
          throw new MediaError('METHOD_NOT_ALLOWED', `${req.method} is not supported on ${url.pathname}.`);
        }
        throw new MediaError('NOT_FOUND', `No route for ${url.pathname}.`);
      }

      const body = await readBody(req);
      const query: Record<string, string> = {};
      for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const { params } = match;
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey: routeKeyOf(match.route),
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        queryStringParameters: Object.keys(query).length ? query : undefined,
        pathParameters: Object.keys(params).length ? params : undefined,
        body: body.length ? body.toString('base64') : undefined,
        isBase64Encoded: body.length > 0,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          domainName: req.headers.host ?? 'localhost',
          domainPrefix: 'local',
          http: {
            method: req.method!,
            path: url.pathname,
            protocol: 'HTTP/1.1',
            sourceIp: req.socket.remoteAddress ?? '',
            userAgent: req.headers['user-agent'] ?? '',
          },
          requestId: randomUUID(),
          routeKey: routeKeyOf(match.route),
          stage: '$default',
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
        },
      };
      const result = await options.functions[match.route.fn](event, lambdaContext(match.route.fn, 29_000, 512));
      const resultHeaders = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
      return send(res, result.statusCode ?? 200, { ...resultHeaders, ...cors }, result.body ?? '');
    } catch (error) {
      const problem = problemResponse(error, url.pathname);
      return send(res, problem.statusCode, { ...problem.headers, ...cors }, problem.body);
    }
  });

  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
