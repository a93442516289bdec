import { getSignedUrl } from '@aws-sdk/cloudfront-signer';
import { MAX_DOWNLOAD_URL_SECONDS, type PresignedDownload } from './media-storage';

export interface CdnUrlOptions {
  /** The distribution's host name (`d111111abcdef8.cloudfront.net` or a custom domain), no scheme. */
  domain: string;
  /** The id CloudFront gave the public key of the distribution's key group. */
  keyPairId: string;
  /** The PEM of the matching RSA private key, read from Secrets Manager at cold start. */
  privateKey: string;
}

/**
 * CloudFront signed URLs for derivatives. A canned policy signs the exact URL and its expiry: the
 * signature is good for that one object until then, for nobody else's path. The distribution's
 * cache key leaves the signature's query parameters out, so every viewer's URL of one object
 * shares one cached copy (infra/lib/delivery.ts).
 */
export class CdnUrls {
  readonly domain: string;
  private readonly keyPairId: string;
  private readonly privateKey: string;

  constructor(options: CdnUrlOptions) {
    if (!/^[a-z0-9.-]+$/i.test(options.domain)) throw new Error(`a CDN domain is a host name, not ${JSON.stringify(options.domain)}`);
    this.domain = options.domain.toLowerCase();
    this.keyPairId = options.keyPairId;
    this.privateKey = options.privateKey;
  }

  /** The unsigned address of an object: its key, each segment escaped, under the distribution. */
  urlOf(key: string): string {
    return `https://${this.domain}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** A signed GET of one object, valid for at most as long as an S3 presigned download. */
  signDownload(input: { key: string; expiresInSeconds: number; now?: Date }): PresignedDownload {
    const expiresIn = Math.min(input.expiresInSeconds, MAX_DOWNLOAD_URL_SECONDS);
    // The canned policy's expiry is in whole seconds: sign at one, so expiresAt is exact.
    const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
    const expiresAt = new Date((now + expiresIn) * 1000);
    const url = getSignedUrl({
      url: this.urlOf(input.key),
      keyPairId: this.keyPairId,
      privateKey: this.privateKey,
      dateLessThan: expiresAt,
      algorithm: 'SHA256',
    });
    return { url, expiresAt: expiresAt.toISOString() };
  }
}
