import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, loadConfig, MediaError } from '@media/core';

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
    expect(() => loadConfig({ ...base, MEDIA_JWT_JWKS_URL: 'https://id.example/jwks.json', MEDIA_JWT_ISSUER: 'https://id.example/' })).toThrow(
      /MEDIA_JWT_AUDIENCE/,
    );
    expect(
      loadConfig({ ...base, MEDIA_JWT_JWKS_URL: 'https://id.example/jwks.json', MEDIA_JWT_ISSUER: 'https://id.example/', MEDIA_JWT_AUDIENCE: 'media' }).jwt,
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
