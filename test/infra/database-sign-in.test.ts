import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '@media/core';
import { loadDatabaseOptionsFromEnv } from '@media/db';
import { rdsIamConnection } from '../../packages/db/src/rds-iam-auth';

const PROXY_URL = 'postgres://media_admin@media-proxy.proxy-abc.eu-west-1.rds.amazonaws.com:5432/media';
const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe('signing in to RDS Proxy with IAM', () => {
  it('connects to the proxy from the URL, with TLS verified and no password of its own', () => {
    const config = rdsIamConnection(PROXY_URL, 'eu-west-1');
    expect(config).toMatchObject({
      host: 'media-proxy.proxy-abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      user: 'media_admin',
      database: 'media',
      ssl: { rejectUnauthorized: true },
    });
    expect(typeof config.password).toBe('function');
  });

  it("signs a fresh token for the proxy user with the function's own credentials", async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    delete process.env.AWS_PROFILE;
    const password = rdsIamConnection(PROXY_URL, 'eu-west-1').password as () => Promise<string>;
    const token = new URL(`https://${await password()}`);
    expect(token.host).toBe('media-proxy.proxy-abc.eu-west-1.rds.amazonaws.com:5432');
    expect(token.searchParams.get('Action')).toBe('connect');
    expect(token.searchParams.get('DBUser')).toBe('media_admin');
    expect(token.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/);
    expect(token.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a URL that carries a password: the two ways must not mix', () => {
    expect(() => rdsIamConnection('postgres://media_admin:pw@proxy:5432/media', 'eu-west-1')).toThrow(/must not carry a password/);
  });

  it('is switched on by MEDIA_DB_IAM_AUTH for the functions and for the migrate function', () => {
    const env = {
      MEDIA_BUCKET: 'media',
      DATABASE_URL: PROXY_URL,
      MEDIA_JWT_JWKS_URL: 'https://id.example/jwks',
      MEDIA_JWT_ISSUER: 'https://id.example/',
      MEDIA_JWT_AUDIENCE: 'media',
      AWS_REGION: 'eu-west-1',
    };
    expect(loadConfig(env).database.iamAuth).toBe(false);
    expect(loadConfig({ ...env, MEDIA_DB_IAM_AUTH: 'true' }).database.iamAuth).toBe(true);
    expect(loadDatabaseOptionsFromEnv({ ...env, MEDIA_DB_IAM_AUTH: 'true' })).toEqual({ url: PROXY_URL, iamAuth: { region: 'eu-west-1' } });
    expect(loadDatabaseOptionsFromEnv(env)).toEqual({ url: PROXY_URL });
  });
});
