import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { matchRoute, routeKeyOf } from '@media/core';

/** The event API Gateway's HTTP API sends a function for one request (payload format 2.0). */
export function httpApiEvent(
  method: string,
  path: string,
  { headers = {}, body, query }: { headers?: Record<string, string>; body?: unknown; query?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const match = matchRoute(method, path);
  if (!match) throw new Error(`no route ${method} ${path}`);
  const routeKey = routeKeyOf(match.route);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return {
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    headers: { ...(text ? { 'content-type': 'application/json' } : {}), ...headers },
    queryStringParameters: query,
    pathParameters: Object.keys(match.params).length ? match.params : undefined,
    body: text,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
  };
}
