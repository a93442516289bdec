import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@media/core';
import { DEFAULT_LOCAL_SECRET } from '@media/local';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const ISSUER = 'https://id.school.example/';
const AUDIENCE = 'media-service';
const tenant = uniqueTenant();
const now = () => Math.floor(Date.now() / 1000);
const b64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Claims of a good teacher token; each bad token below changes one thing. */
const goodClaims = (): JWTPayload => ({
  sub: 't-1',
  tenant,
  role: 'teacher',
  classrooms: ['c-1'],
  iss: ISSUER,
  aud: AUDIENCE,
  iat: now(),
  exp: now() + 600,
});

const without = (claims: JWTPayload, name: string): JWTPayload => Object.fromEntries(Object.entries(claims).filter(([k]) => k !== name));

const hs256 = (claims: JWTPayload, secret: Uint8Array | string = DEFAULT_LOCAL_SECRET) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);

const unsigned = (claims: JWTPayload, alg = 'none') => `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}.`;

/** Every refusal looks the same but for `detail`: no hint of which check failed. */
function expectUnauthenticated(answer: { status: number; headers: Headers; json: Problem }, label: string) {
  expect(answer.status, label).toBe(401);
  expect(answer.headers.get('content-type'), label).toBe('application/problem+json');
  expect(Object.keys(answer.json).sort(), label).toEqual(['code', 'detail', 'instance', 'status', 'title', 'type']);
  expect({ ...answer.json, detail: undefined }, label).toEqual({
    type: 'https://media.school.example/problems/unauthenticated',
    title: 'Authentication required',
    status: 401,
    code: 'UNAUTHENTICATED',
    instance: '/v1/media',
    detail: undefined,
  });
  expect(answer.json.detail, label).toMatch(
    /^(The token is invalid or expired\.|The token does not carry a valid tenant, role and subject\.|Send a bearer token: Authorization: Bearer <JWT>\.)$/,
  );
}

describe('tokens signed with the shared secret (local stack), issuer and audience configured', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ jwtIssuer: ISSUER, jwtAudience: AUDIENCE });
  });
  afterAll(() => stack?.close());

  const list = (authorization?: string) =>
    stack.api<Problem>('GET', '/v1/media', { headers: authorization === undefined ? {} : { authorization } });

  it('accepts a good token, and one within the 60 s of clock skew', async () => {
    expect((await list(`Bearer ${await hs256(goodClaims())}`)).status).toBe(200);
    expect((await list(`bearer ${await hs256({ ...goodClaims(), exp: now() - 30 })}`)).status).toBe(200);
    expect((await list(`Bearer ${await hs256({ ...goodClaims(), nbf: now() + 30 })}`)).status).toBe(200);
  });

  const badTokens: [string, () => Promise<string>][] = [
    ['alg: none', async () => unsigned(goodClaims())],
    ['alg: None', async () => unsigned(goodClaims(), 'None')],
    [
      'alg: none with the signature of a good token',
      async () => {
        const good = await hs256(goodClaims());
        return `${b64url({ alg: 'none', typ: 'JWT' })}.${good.split('.')[1]}.${good.split('.')[2]}`;
      },
    ],
    ['another secret', async () => hs256(goodClaims(), 'another-secret-of-some-length')],
    [
      'a tampered payload',
      async () => {
        const [header, , signature] = (await hs256(goodClaims())).split('.');
        return `${header}.${b64url({ ...goodClaims(), role: 'admin' })}.${signature}`;
      },
    ],
    ['another issuer', async () => hs256({ ...goodClaims(), iss: 'https://evil.example/' })],
    ['no issuer', async () => hs256(without(goodClaims(), 'iss'))],
    ['another audience', async () => hs256({ ...goodClaims(), aud: 'another-service' })],
    ['no audience', async () => hs256(without(goodClaims(), 'aud'))],
    ['expired more than 60 s ago', async () => hs256({ ...goodClaims(), exp: now() - 90 })],
    ['no expiry', async () => hs256(without(goodClaims(), 'exp'))],
    ['not valid before a moment more than 60 s ahead', async () => hs256({ ...goodClaims(), nbf: now() + 90 })],
    ['no issue time', async () => hs256(without(goodClaims(), 'iat'))],
    ['an issue time more than 60 s ahead', async () => hs256({ ...goodClaims(), iat: now() + 90, exp: now() + 600 })],
    ['a life longer than one day (exp - iat)', async () => hs256({ ...goodClaims(), exp: now() + 86_400 + 60 })],
    ['an expiry ten years out', async () => hs256({ ...goodClaims(), exp: now() + 10 * 365 * 86_400 })],
    ['no tenant', async () => hs256(without(goodClaims(), 'tenant'))],
    ['the tenant "."', async () => hs256({ ...goodClaims(), tenant: '.' })],
    ['the tenant ".."', async () => hs256({ ...goodClaims(), tenant: '..' })],
    ['a tenant with a slash', async () => hs256({ ...goodClaims(), tenant: 'school/1' })],
    ['a tenant of 64 characters', async () => hs256({ ...goodClaims(), tenant: 's'.repeat(64) })],
    ['a teacher whose subject is a service name', async () => hs256({ ...goodClaims(), sub: 'ai-service' })],
    ['a student whose subject is a service name', async () => hs256({ ...goodClaims(), role: 'student', sub: 'user-service' })],
    ['an admin whose subject is a service name', async () => hs256({ ...goodClaims(), role: 'admin', sub: 'attendance-service' })],
    ['an empty tenant', async () => hs256({ ...goodClaims(), tenant: '' })],
    ['a tenant that is a path', async () => hs256({ ...goodClaims(), tenant: '../other' })],
    ['an unknown role', async () => hs256({ ...goodClaims(), role: 'superuser' })],
    ['no role', async () => hs256(without(goodClaims(), 'role'))],
    ['a service role for an unknown service', async () => hs256({ ...goodClaims(), role: 'service', sub: 'backup-service' })],
    ['no subject', async () => hs256(without(goodClaims(), 'sub'))],
    ['classrooms that are not a list', async () => hs256({ ...goodClaims(), classrooms: 'c-1' })],
    [
      'RS256 in the header over an HMAC signature',
      async () => {
        const [, payload, signature] = (await hs256(goodClaims())).split('.');
        return `${b64url({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`;
      },
    ],
  ];

  it.each(badTokens)('refuses a token with %s: 401 UNAUTHENTICATED', async (label, make) => {
    expectUnauthenticated(await list(`Bearer ${await make()}`), label);
  });

  it.each(['.', '..'])('answers an upload under the tenant %j with 401, never a 500', async (badTenant) => {
    const token = await hs256({ ...goodClaims(), tenant: badTenant });
    const answer = await stack.api<Problem>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: 1000 },
    });
    expect(answer.status).toBe(401);
    expect(answer.json.code).toBe('UNAUTHENTICATED');
  });

  const badHeaders: [string, string | undefined][] = [
    ['no Authorization header', undefined],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
    ['another scheme', 'Basic dDEtMTpzZWNyZXQ='],
    ['two segments', 'Bearer aaaa.bbbb'],
    ['four segments', 'Bearer aaaa.bbbb.cccc.dddd'],
    ['characters outside base64url', 'Bearer aa+a.bb/b.cc=c'],
    ['segments that are not JSON', `Bearer ${b64url('not json')}.${b64url('nor this')}.c2ln`],
    ['a header that is JSON but no object', `Bearer ${b64url('"HS256"')}.${b64url({})}.c2ln`],
    ['two tokens', 'Bearer aaaa.bbbb.cccc aaaa.bbbb.cccc'],
  ];

  it.each(badHeaders)('refuses %s: 401 UNAUTHENTICATED', async (label, header) => {
    expectUnauthenticated(await list(header), label);
  });
});

describe('tokens of an identity provider (JWKS, as in AWS)', () => {
  let stack: TestStack;
  let jwks: Server;
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let stranger: Awaited<ReturnType<typeof generateKeyPair>>;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    stranger = await generateKeyPair('RS256', { extractable: true });
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', use: 'sig' },
    ];
    jwks = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    // The shared secret stays configured: with a JWKS URL it must be ignored.
    stack = await startTestStack({ jwtIssuer: ISSUER, jwtAudience: AUDIENCE, env: { MEDIA_JWT_JWKS_URL: jwksUrl } });
  });
  afterAll(async () => {
    await stack?.close();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const list = (token: string) => stack.api<Problem>('GET', '/v1/media', { token });
  const signed = (alg: string, kid: string, key: CryptoKey | Uint8Array, claims = goodClaims()) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);

  it('accepts RS256 and ES256 tokens signed by the provider', async () => {
    expect((await list(await signed('RS256', 'rsa-1', rsa.privateKey))).status).toBe(200);
    expect((await list(await signed('ES256', 'ec-1', ec.privateKey))).status).toBe(200);
  });

  it("refuses an HS256 token signed with the provider's public key (PEM or JWK)", async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const jwk = new TextEncoder().encode(JSON.stringify(await exportJWK(rsa.publicKey)));
    expectUnauthenticated(await list(await signed('HS256', 'rsa-1', pem)), 'HS256 with the PEM');
    expectUnauthenticated(await list(await signed('HS256', 'rsa-1', jwk)), 'HS256 with the JWK');
  });

  it('refuses tokens signed with the local shared secret', async () => {
    expectUnauthenticated(await list(await hs256(goodClaims())), 'HS256 with the local secret');
  });

  it('refuses alg none, other algorithms, other keys, other issuers and audiences', async () => {
    expectUnauthenticated(await list(unsigned(goodClaims())), 'alg none');
    const samePrivateKeyForPss = (await importJWK(await exportJWK(rsa.privateKey), 'PS256')) as CryptoKey;
    expectUnauthenticated(await list(await signed('PS256', 'rsa-1', samePrivateKeyForPss)), 'PS256 with the provider key');
    expectUnauthenticated(await list(await signed('RS256', 'rsa-1', stranger.privateKey)), 'another key under the provider kid');
    expectUnauthenticated(await list(await signed('RS256', 'unknown', stranger.privateKey)), 'an unknown kid');
    expectUnauthenticated(
      await list(await signed('RS256', 'rsa-1', rsa.privateKey, { ...goodClaims(), iss: 'https://evil.example/' })),
      'issuer',
    );
    expectUnauthenticated(await list(await signed('RS256', 'rsa-1', rsa.privateKey, { ...goodClaims(), aud: 'other' })), 'audience');
    expectUnauthenticated(await list(await signed('RS256', 'rsa-1', rsa.privateKey, { ...goodClaims(), exp: now() - 90 })), 'expired');
    expectUnauthenticated(await list(await signed('ES256', 'ec-1', ec.privateKey, without(goodClaims(), 'tenant'))), 'no tenant');
    expectUnauthenticated(await list(await signed('ES256', 'ec-1', ec.privateKey, { ...goodClaims(), role: 'root' })), 'unknown role');
  });
});
