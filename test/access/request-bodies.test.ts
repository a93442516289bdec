import { request } from 'node:http';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, UPLOAD_ROUTES, createTokenVerifier, type Problem } from '@media/core';
import { RequestThrottle, type Dependencies } from '@media/service';
import { apiHandler, type RouteHandlers } from '../../functions/shared/api-handler';
import { mintDevToken } from '../../packages/local/src/dev-token';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const MiB = 1024 * 1024;
/** A JSON document of exactly `bytes` bytes: what an oversized request looks like on the wire. */
const jsonOf = (bytes: number) => {
  const head = '{"purpose":"profile","contentType":"image/jpeg","size":1000,"filename":"';
  return `${head + 'x'.repeat(bytes - head.length - 2)}"}`;
};

function expectTooLarge(status: number, contentType: string | null, problem: Problem) {
  expect(status).toBe(413);
  expect(contentType).toBe('application/problem+json');
  expect(problem.code).toBe('PAYLOAD_TOO_LARGE');
  expect(problem.detail).toMatch(/1 MiB/);
}

describe('request bodies over 1 MiB, local server', () => {
  let stack: TestStack;
  let token: string;
  beforeAll(async () => {
    stack = await startTestStack();
    token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: ['c-1'] });
  });
  afterAll(() => stack?.close());

  it('answer a 2 MiB POST with 413 PAYLOAD_TOO_LARGE, and the client reads it', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: jsonOf(2 * MiB),
    });
    expectTooLarge(res.status, res.headers.get('content-type'), (await res.json()) as Problem);
  });

  it('answer a streamed (chunked) 2 MiB body the same way', async () => {
    const answer = await new Promise<{ status: number; contentType: string | null; body: string }>((resolve, reject) => {
      const req = request(`${stack.apiUrl}/v1/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, body }));
      });
      req.on('error', reject);
      const text = jsonOf(2 * MiB);
      for (let at = 0; at < text.length; at += 64 * 1024) req.write(text.slice(at, at + 64 * 1024));
      req.end();
    });
    expectTooLarge(answer.status, answer.contentType, JSON.parse(answer.body) as Problem);
  });

  it('still read a body of exactly 1 MiB, and keep serving after a refusal', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: jsonOf(MiB),
    });
    // Read, parsed and judged on its merits: the file name is too long for a record.
    expect(res.status).toBe(400);
    expect(((await res.json()) as Problem).code).toBe('VALIDATION_FAILED');
  });
});

describe('request bodies over 1 MiB, Lambda handler behind API Gateway', () => {
  const SECRET = 'request-bodies-test-secret';
  // Every route of the function answers what it was handed; only the adapter's reading is under test.
  const handlers = Object.fromEntries(
    API_ROUTES.filter((route) => route.fn === 'request-upload').map((route) => [route.operationId, async () => ({ received: true })]),
  ) as unknown as RouteHandlers<'request-upload'>;
  const echo = apiHandler('request-upload', UPLOAD_ROUTES, handlers).withDependencies({
    config: { allowedOrigins: [] },
    verifyToken: createTokenVerifier({ secret: SECRET }),
    throttle: new RequestThrottle({ school: { perSecond: 1000, burst: 1000 }, unauthenticated: { perSecond: 1000, burst: 1000 } }),
  } as unknown as Dependencies);

  const event = (body: string, isBase64Encoded: boolean, authorization: string): APIGatewayProxyEventV2 => ({
    version: '2.0',
    routeKey: 'POST /v1/uploads',
    rawPath: '/v1/uploads',
    rawQueryString: '',
    headers: { authorization, 'content-type': 'application/json' },
    body,
    isBase64Encoded,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      domainName: 'api.example',
      domainPrefix: 'api',
      http: { method: 'POST', path: '/v1/uploads', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r-1',
      routeKey: 'POST /v1/uploads',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
  });

  it.each([
    ['as text', false],
    ['base64-encoded', true],
  ])('refuses a body over 1 MiB handed over %s, by its decoded size', async (_label, base64) => {
    const authorization = `Bearer ${await mintDevToken({ role: 'teacher', tenant: 'school-1', sub: 't-1' }, SECRET)}`;
    const encode = (text: string) => (base64 ? Buffer.from(text).toString('base64') : text);
    const over = await echo(event(encode(jsonOf(MiB + 1)), base64, authorization), {} as Context);
    expectTooLarge(over.statusCode!, over.headers!['content-type'] as string, JSON.parse(over.body!) as Problem);
    // The base64 text of 1 MiB is a third longer: only the decoded size counts. Read, then judged
    // by the route's schema on its merits (the file name is too long for a record).
    const exact = await echo(event(encode(jsonOf(MiB)), base64, authorization), {} as Context);
    expect(exact.statusCode).toBe(400);
    expect((JSON.parse(exact.body!) as Problem).code).toBe('VALIDATION_FAILED');
  });
});
