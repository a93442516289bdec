import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, loadConfig } from '@media/core';
import { RequestThrottle, type Dependencies } from '@media/service';
import { DOWNLOAD_ROUTES, matchRoute } from '@media/core';
import { apiHandler } from '@media/functions/api-handler';
import { mintDevToken } from '../../packages/local/src/dev-token';

const SECRET = 'function-url-test-secret';

/** The event a Lambda function URL sends (LocalStack profile): no route key, no path parameters. */
function functionUrlEvent(
  method: string,
  path: string,
  authorization?: string,
  query: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: new URLSearchParams(query).toString(),
    queryStringParameters: query,
    headers: authorization ? { authorization } : {},
    isBase64Encoded: false,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'url-id',
      domainName: 'url-id.lambda-url.us-east-1.localhost.localstack.cloud',
      domainPrefix: 'url-id',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r-1',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  };
}

// Each route answers what the adapter handed it: its name, and its input as parsed by the route table.
const echo = apiHandler('get-download', DOWNLOAD_ROUTES, {
  downloadUrl: async ({ params, query }) => ({ route: 'downloadUrl', params, query }),
  downloadUrls: async ({ body }) => ({ route: 'downloadUrls', body }),
}).withDependencies({
  config: { allowedOrigins: [] },
  verifyToken: createTokenVerifier({ secret: SECRET }),
  throttle: new RequestThrottle({ school: { perSecond: 1000, burst: 1000 }, unauthenticated: { perSecond: 1000, burst: 1000 } }),
} as unknown as Dependencies);
const context = {} as Context;

describe('routing behind a Lambda function URL', () => {
  it('finds the route and its decoded path parameters from the raw method and path', () => {
    expect(matchRoute('GET', '/v1/media/abc%2Ddef/download')).toMatchObject({
      route: { method: 'GET', path: '/v1/media/{id}/download', fn: 'get-download' },
      params: { id: 'abc-def' },
    });
    expect(matchRoute('POST', '/v1/uploads/batch')?.route.path).toBe('/v1/uploads/batch');
  });

  it('finds nothing for an unknown path, a wrong method or a malformed escape', () => {
    expect(matchRoute('GET', '/v1/elsewhere')).toBeUndefined();
    expect(matchRoute('PATCH', '/v1/media/abc')).toBeUndefined();
    expect(matchRoute('GET', '/v1/media/%E0%A4%A')).toBeUndefined();
  });

  it('hands the handler the same route and parsed parameters the HTTP API would', async () => {
    const token = await mintDevToken({ role: 'teacher', tenant: 'school-1', sub: 't-1' }, SECRET);
    const id = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const result = await echo(functionUrlEvent('GET', `/v1/media/${id}/download`, `Bearer ${token}`, { variant: 'thumb' }), context);
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body!)).toEqual({ route: 'downloadUrl', params: { id }, query: { variant: 'thumb' } });
  });

  it('answers 404 for a malformed media id and 400 for a bad query, before any handler runs', async () => {
    const token = await mintDevToken({ role: 'teacher', tenant: 'school-1', sub: 't-1' }, SECRET);
    const malformed = await echo(functionUrlEvent('GET', '/v1/media/0190-id/download', `Bearer ${token}`, { variant: 'thumb' }), context);
    expect([malformed.statusCode, JSON.parse(malformed.body!).code]).toEqual([404, 'NOT_FOUND']);
    const badQuery = await echo(
      functionUrlEvent('GET', '/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/download', `Bearer ${token}`, { variant: 'huge' }),
      context,
    );
    expect([badQuery.statusCode, JSON.parse(badQuery.body!).code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it("answers 404 for another function's route", async () => {
    const token = await mintDevToken({ role: 'teacher', tenant: 'school-1', sub: 't-1' }, SECRET);
    const result = await echo(functionUrlEvent('DELETE', '/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', `Bearer ${token}`), context);
    expect(result.statusCode).toBe(404);
  });

  it('answers 404 problem+json for a path no route names, before looking at the token', async () => {
    const result = await echo(functionUrlEvent('GET', '/v1/nothing-here'), context);
    expect(result.statusCode).toBe(404);
    expect(result.headers?.['content-type']).toBe('application/problem+json');
    expect(JSON.parse(result.body!).code).toBe('NOT_FOUND');
  });
});

describe('an API function whose configuration is invalid', () => {
  // What a cold start with a broken environment throws: a sentence naming the settings.
  const misconfigured = apiHandler('get-download', DOWNLOAD_ROUTES, {
    downloadUrl: async () => ({}),
    downloadUrls: async () => ({}),
  }).withDependencies(async () => {
    loadConfig({ MEDIA_JWT_SECRET: 'short' });
    throw new Error('unreachable: the configuration above is invalid');
  });

  it('answers 500 problem+json with the generic sentence, never the names or values of its settings', async () => {
    const token = await mintDevToken({ role: 'teacher', tenant: 'school-1', sub: 't-1' }, SECRET);
    const result = await misconfigured(
      functionUrlEvent('GET', '/v1/media/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/download', `Bearer ${token}`, { variant: 'thumb' }),
      context,
    );
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body!)).toMatchObject({ code: 'INTERNAL', detail: 'An unexpected error occurred.' });
    expect(result.body).not.toMatch(/MEDIA_|DATABASE_URL|configuration/);
  });
});
