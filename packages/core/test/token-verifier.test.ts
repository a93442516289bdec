import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, loadConfig, type MediaError } from '@media/core';

const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    return (error as MediaError).code;
  }
  return 'none';
};

const providerToken = async () => {
  const { privateKey } = await generateKeyPair('RS256');
  return new SignJWT({ tenant: 'school-1', role: 'teacher' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k-1' })
    .setSubject('t-1')
    .setIssuedAt()
    .setIssuer('https://id.example/')
    .setAudience('media')
    .setExpirationTime('5m')
    .sign(privateKey);
};

describe('token verification against a JWKS', () => {
  it('answers 503, not 401, while the identity provider cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const verify = createTokenVerifier({ jwksUrl: `http://127.0.0.1:${port}/jwks.json`, issuer: 'https://id.example/', audience: 'media' });
    expect(await codeOf(verify(`Bearer ${await providerToken()}`))).toBe('SERVICE_UNAVAILABLE');
  });

  it('answers 503 when the provider serves something that is not a key set', async () => {
    const garbage = createServer((_, res) => res.end('<html>maintenance</html>'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}/jwks.json`;
      const verify = createTokenVerifier({ jwksUrl: url, issuer: 'https://id.example/', audience: 'media' });
      expect(await codeOf(verify(`Bearer ${await providerToken()}`))).toBe('SERVICE_UNAVAILABLE');
      // A malformed token is still the caller's problem, whatever the provider's state.
      expect(await codeOf(verify('Bearer a.b.c'))).toBe('UNAUTHENTICATED');
    } finally {
      await new Promise((resolve) => garbage.close(resolve));
    }
  });
});

describe('token configuration', () => {
  const base = { MEDIA_BUCKET: 'media', DATABASE_URL: 'postgres://localhost/media' };

  it('refuses a JWKS URL without issuer and audience at cold start', () => {
    expect(() => loadConfig({ ...base, MEDIA_JWT_JWKS_URL: 'https://id.example/jwks.json' })).toThrow(/MEDIA_JWT_ISSUER/);
    expect(() =>
      loadConfig({ ...base, MEDIA_JWT_JWKS_URL: 'https://id.example/jwks.json', MEDIA_JWT_ISSUER: 'https://id.example/' }),
    ).toThrow(/MEDIA_JWT_AUDIENCE/);
    expect(
      loadConfig({
        ...base,
        MEDIA_JWT_JWKS_URL: 'https://id.example/jwks.json',
        MEDIA_JWT_ISSUER: 'https://id.example/',
        MEDIA_JWT_AUDIENCE: 'media',
      }).jwt,
    ).toMatchObject({ issuer: 'https://id.example/', audience: 'media' });
  });
});

describe('pending-upload limits', () => {
  const base = { MEDIA_BUCKET: 'media', DATABASE_URL: 'postgres://localhost/media', MEDIA_JWT_SECRET: 'a-secret-of-sixteen+' };

  it('are 50 for every purpose unless configured, and can be set per purpose', () => {
    expect(loadConfig(base).limits.maxPendingUploads).toEqual({ profile: 50, attendance: 50, training: 50, general: 50 });
    const config = loadConfig({ ...base, MEDIA_MAX_PENDING_UPLOADS: '20', MEDIA_MAX_PENDING_UPLOADS_ATTENDANCE: '200' });
    expect(config.limits.maxPendingUploads).toEqual({ profile: 20, attendance: 200, training: 20, general: 20 });
  });
});

describe('token lifetime, issue time and tenant', () => {
  const secret = 'a-secret-of-sixteen+';
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret));
  const claims = (extra: JWTPayload = {}): JWTPayload => ({
    sub: 't-1',
    tenant: 'school-1',
    role: 'teacher',
    iat: now(),
    exp: now() + 600,
    ...extra,
  });
  const verify = createTokenVerifier({ secret });
  const outcome = async (payload: JWTPayload, verifier = verify) => {
    try {
      const principal = await verifier(`Bearer ${await sign(payload)}`);
      return `ok:${principal.tenant}`;
    } catch (error) {
      return (error as MediaError).code;
    }
  };
  const without = (payload: JWTPayload, name: string) => Object.fromEntries(Object.entries(payload).filter(([k]) => k !== name));

  it('accepts a token living exactly one day, by default the longest allowed', async () => {
    expect(await outcome(claims({ exp: now() + 86_400 }))).toBe('ok:school-1');
  });

  it('refuses a token that declares a longer life than allowed, however fresh', async () => {
    expect(await outcome(claims({ exp: now() + 86_401 }))).toBe('UNAUTHENTICATED');
    expect(await outcome(claims({ exp: now() + 10 * 365 * 86_400 }))).toBe('UNAUTHENTICATED');
  });

  it('honours a configured maximum life', async () => {
    const strict = createTokenVerifier({ secret, maxTtlSeconds: 300 });
    expect(await outcome(claims({ exp: now() + 300 }), strict)).toBe('ok:school-1');
    expect(await outcome(claims({ exp: now() + 301 }), strict)).toBe('UNAUTHENTICATED');
  });

  it('refuses a token without an issue time, or issued more than 60 s in the future', async () => {
    expect(await outcome(without(claims(), 'iat'))).toBe('UNAUTHENTICATED');
    expect(await outcome(claims({ iat: now() + 90, exp: now() + 600 }))).toBe('UNAUTHENTICATED');
    expect(await outcome(claims({ iat: now() + 30, exp: now() + 600 }))).toBe('ok:school-1');
  });

  it.each(['.', '..', '', '../other', 'a/b', 'school\\1', '-school', 'school.1', 'x'.repeat(64), ' school-1', 'école'])(
    'refuses the tenant %j with 401, never later as a storage key',
    async (tenant) => {
      expect(await outcome(claims({ tenant }))).toBe('UNAUTHENTICATED');
    },
  );

  it('accepts tenant identifiers of letters, digits, hyphens and underscores, up to 63 characters', async () => {
    for (const tenant of ['school-1', 'School_2', 'a', 'x'.repeat(63), 'upload-school-0a1b2c3d']) {
      expect(await outcome(claims({ tenant }))).toBe(`ok:${tenant}`);
    }
  });

  it.each(['ai-service', 'attendance-service', 'user-service', 'analytics-service'])(
    "refuses a person's token whose subject is the service name %s",
    async (sub) => {
      for (const role of ['student', 'teacher', 'admin']) expect(await outcome(claims({ sub, role }))).toBe('UNAUTHENTICATED');
      expect(await outcome(claims({ sub, role: 'service' }))).toBe('ok:school-1');
    },
  );
});

describe('token lifetime configuration', () => {
  const base = { MEDIA_BUCKET: 'media', DATABASE_URL: 'postgres://localhost/media', MEDIA_JWT_SECRET: 'a-secret-of-sixteen+' };

  it('is one day unless MEDIA_JWT_MAX_TTL_SECONDS says otherwise', () => {
    expect(loadConfig(base).jwt.maxTtlSeconds).toBe(86_400);
    expect(loadConfig({ ...base, MEDIA_JWT_MAX_TTL_SECONDS: '3600' }).jwt.maxTtlSeconds).toBe(3600);
    expect(() => loadConfig({ ...base, MEDIA_JWT_MAX_TTL_SECONDS: 'forever' })).toThrow(/MEDIA_JWT_MAX_TTL_SECONDS/);
  });
});

describe('what a refused token is told', () => {
  const verify = createTokenVerifier({ secret: 'a-secret-of-sixteen+' });
  const detailOf = async (authorization: string | undefined) => {
    try {
      await verify(authorization);
    } catch (error) {
      return (error as MediaError).message;
    }
    return 'accepted';
  };

  it('tells a bearer token that is not a JWT that it is invalid, not to send one', async () => {
    expect(await detailOf('Bearer nope')).toBe('The token is invalid or expired.');
  });

  it('asks for a bearer token when none was sent', async () => {
    expect(await detailOf(undefined)).toBe('Send a bearer token: Authorization: Bearer <JWT>.');
    expect(await detailOf('Basic dXNlcjpwYXNz')).toBe('Send a bearer token: Authorization: Bearer <JWT>.');
  });
});
