import { generateKeyPairSync, verify } from 'node:crypto';
import type { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '@media/core';
import { cdnSigner } from '../../functions/shared/cdn-signer';

const base = { MEDIA_BUCKET: 'media-test', DATABASE_URL: 'postgres://x@localhost/db', MEDIA_JWT_SECRET: 'a-test-secret-of-16+' };
const cdnEnv = {
  MEDIA_CDN_DOMAIN: 'media-cdn.school.example',
  MEDIA_CDN_KEY_PAIR_ID: 'K2JCJMDEHXQW5F',
  MEDIA_CDN_PRIVATE_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:media/dev/cdn-private-key',
};
const keys = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

/** Secrets Manager as the cold start sees it: one secret, and a count of the reads. */
function secretsHolding(value: string) {
  const reads: string[] = [];
  const client: Pick<SecretsManagerClient, 'send'> = {
    send: (async (command: GetSecretValueCommand) => {
      reads.push(command.input.SecretId!);
      return { SecretString: value };
    }) as SecretsManagerClient['send'],
  };
  return { client, reads };
}

describe('the CDN signer at cold start', () => {
  it('is absent without CDN configuration: the function hands out S3 URLs as before', async () => {
    const config = loadConfig(base);
    expect(config.cdn).toEqual({ signing: undefined, distributionId: undefined });
    expect(await cdnSigner(config, secretsHolding('unused').client)).toBeUndefined();
  });

  it('reads the private key from the secret the environment names, once, and signs with it', async () => {
    const secrets = secretsHolding(keys.privateKey);
    const signer = await cdnSigner(loadConfig({ ...base, ...cdnEnv }), secrets.client);
    expect(secrets.reads).toEqual([cdnEnv.MEDIA_CDN_PRIVATE_KEY_SECRET_ARN]);
    const { url } = signer!.signDownload({ key: 'derivatives/school-1/x/thumb.webp', expiresInSeconds: 60 });
    const query = new URL(url).searchParams;
    const policy = JSON.stringify({
      Statement: [{ Resource: url.split('?')[0], Condition: { DateLessThan: { 'AWS:EpochTime': Number(query.get('Expires')) } } }],
    });
    const signature = Buffer.from(query.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
    expect(verify('RSA-SHA256', Buffer.from(policy), keys.publicKey, signature)).toBe(true);
    expect(secrets.reads).toHaveLength(1);
  });

  it('fails the cold start when the secret holds no private key (not yet filled, or the public half by mistake)', async () => {
    await expect(cdnSigner(loadConfig({ ...base, ...cdnEnv }), secretsHolding(keys.publicKey).client)).rejects.toThrow(
      /no PEM private key/,
    );
  });

  it('refuses half a CDN configuration at cold start', () => {
    expect(() => loadConfig({ ...base, MEDIA_CDN_DOMAIN: cdnEnv.MEDIA_CDN_DOMAIN })).toThrow(/go together/);
    expect(() => loadConfig({ ...base, ...cdnEnv, MEDIA_CDN_DOMAIN: 'https://cdn.example/' })).toThrow(/MEDIA_CDN_DOMAIN/);
    expect(() => loadConfig({ ...base, ...cdnEnv, MEDIA_CDN_PRIVATE_KEY_SECRET_ARN: '-----BEGIN PRIVATE KEY-----' })).toThrow(
      /MEDIA_CDN_PRIVATE_KEY_SECRET_ARN/,
    );
  });
});
