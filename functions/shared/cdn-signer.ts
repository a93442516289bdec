import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MediaError, type Config } from '@media/core';
import { CdnUrls } from '@media/storage';

/**
 * The CloudFront signer of a function that issues derivative URLs through the CDN. Its private key
 * lives in Secrets Manager, read here once per container: the environment names only where it is
 * (an ARN) and the key pair's id, so no console, log line or template ever shows the key.
 */
export async function cdnSigner(config: Config, secrets?: Pick<SecretsManagerClient, 'send'>): Promise<CdnUrls | undefined> {
  const signing = config.cdn.signing;
  if (!signing) return undefined;
  // Loaded only where a CDN signs URLs, once, when the first request builds the dependencies: a
  // deployment without a CDN never evaluates the client's module.
  const sdk = await import('@aws-sdk/client-secrets-manager');
  const client = secrets ?? new sdk.SecretsManagerClient({ region: config.region });
  const { SecretString } = await client.send(new sdk.GetSecretValueCommand({ SecretId: signing.privateKeySecretArn }));
  if (!SecretString?.includes('PRIVATE KEY-----')) {
    throw new MediaError('INTERNAL', 'the CDN private key secret holds no PEM private key');
  }
  return new CdnUrls({ domain: signing.domain, keyPairId: signing.keyPairId, privateKey: SecretString });
}
