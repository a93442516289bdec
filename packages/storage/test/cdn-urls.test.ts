import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CdnUrls, MAX_DOWNLOAD_URL_SECONDS } from '@media/storage';

// A key pair made for this test, as `openssl genrsa 2048` makes one for a deployment.
const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const cdn = new CdnUrls({ domain: 'd111111abcdef8.cloudfront.net', keyPairId: 'K2JCJMDEHXQW5F', privateKey });
const key = 'derivatives/school-1/0196b2a4-7c1e-7d3a-9f00-123456789abc/thumb.webp';
const now = new Date('2026-11-30T08:00:00.500Z');

/** The canned policy CloudFront rebuilds from a request (its documented form, no whitespace). */
const cannedPolicy = (resource: string, epoch: number) =>
  JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': epoch } } }] });

/** CloudFront's URL-safe base64 (+ → -, = → _, / → ~) back to bytes. */
const signatureBytes = (value: string) => Buffer.from(value.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');

/** What CloudFront checks of a canned-policy URL: the signature over (this URL, its Expires) with the key group's public key. */
function acceptedByCloudFront(signedUrl: string, resource = signedUrl.split('?')[0]!): boolean {
  const url = new URL(signedUrl);
  if (url.searchParams.get('Key-Pair-Id') !== 'K2JCJMDEHXQW5F') return false;
  const algorithm = url.searchParams.get('Hash-Algorithm') === 'SHA256' ? 'RSA-SHA256' : 'RSA-SHA1';
  const policy = cannedPolicy(resource, Number(url.searchParams.get('Expires')));
  return verify(algorithm, Buffer.from(policy), publicKey, signatureBytes(url.searchParams.get('Signature') ?? ''));
}

describe('CloudFront signed URLs for derivatives', () => {
  it("signs the exact path under the distribution, verifiable with the key group's public key", () => {
    const { url } = cdn.signDownload({ key, expiresInSeconds: 300, now });
    expect(url.split('?')[0]).toBe(`https://d111111abcdef8.cloudfront.net/${key}`);
    expect(acceptedByCloudFront(url)).toBe(true);
  });

  it("expires after the purpose's lifetime, in whole seconds, and says when", () => {
    const { url, expiresAt } = cdn.signDownload({ key, expiresInSeconds: 300, now });
    const expires = Number(new URL(url).searchParams.get('Expires'));
    expect(expires).toBe(Math.floor(now.getTime() / 1000) + 300);
    expect(expiresAt).toBe(new Date(expires * 1000).toISOString());
  });

  it('never lives longer than an S3 presigned download', () => {
    const { url } = cdn.signDownload({ key, expiresInSeconds: 86_400, now });
    expect(Number(new URL(url).searchParams.get('Expires'))).toBe(Math.floor(now.getTime() / 1000) + MAX_DOWNLOAD_URL_SECONDS);
  });

  it("cannot be reused for another path: not another variant, not another child's photo", () => {
    const { url } = cdn.signDownload({ key, expiresInSeconds: 300, now });
    const query = url.split('?')[1];
    for (const other of [
      key.replace('thumb', 'large'),
      key.replace('school-1', 'school-2'),
      'originals/school-1/0196b2a4-7c1e-7d3a-9f00-123456789abc',
    ]) {
      const forged = `https://d111111abcdef8.cloudfront.net/${other}?${query}`;
      expect(acceptedByCloudFront(forged), other).toBe(false);
    }
  });

  it('cannot be stretched: a later Expires breaks the signature', () => {
    const signed = new URL(cdn.signDownload({ key, expiresInSeconds: 300, now }).url);
    signed.searchParams.set('Expires', String(Number(signed.searchParams.get('Expires')) + 3600));
    expect(acceptedByCloudFront(signed.toString())).toBe(false);
  });

  it('is not accepted under a key the distribution does not trust', () => {
    const stranger = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const forger = new CdnUrls({ domain: 'd111111abcdef8.cloudfront.net', keyPairId: 'K2JCJMDEHXQW5F', privateKey: stranger.privateKey });
    expect(acceptedByCloudFront(forger.signDownload({ key, expiresInSeconds: 300, now }).url)).toBe(false);
  });

  it('refuses a domain that is not a bare host name', () => {
    expect(() => new CdnUrls({ domain: 'https://cdn.example/x', keyPairId: 'K1', privateKey })).toThrow(/host name/);
  });
});
