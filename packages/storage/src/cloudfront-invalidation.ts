import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { EdgeInvalidation } from './cdn-invalidation';

/**
 * CloudFront invalidations by exact path, one per key. Exact paths, not `derivatives/…/*`: the
 * account may have 3,000 exact paths in progress but only 15 wildcards, which a mass erasure
 * would exhaust at once. A refused invalidation (throttling) throws; the caller retries it.
 * An entry point of its own (`@media/storage/cloudfront-invalidation`): only the functions that
 * purge bundle the CloudFront client (about 220 KB).
 */
export class CloudFrontInvalidation implements EdgeInvalidation {
  private client: Promise<CloudFrontClient> | undefined;

  constructor(
    private readonly distributionId: string,
    client?: CloudFrontClient,
  ) {
    if (client) this.client = Promise.resolve(client);
  }

  async invalidate(keys: string[], reference: string): Promise<void> {
    if (keys.length === 0) return;
    // Loaded on the first delete, not at cold start: the client's module costs tens of milliseconds
    // to evaluate, in every function that bundles it, and only purges ever use it.
    const sdk = await import('@aws-sdk/client-cloudfront');
    this.client ??= Promise.resolve(new sdk.CloudFrontClient({}));
    const paths = keys.map((key) => `/${key.split('/').map(encodeURIComponent).join('/')}`);
    await (await this.client).send(
      new sdk.CreateInvalidationCommand({
        DistributionId: this.distributionId,
        // Unique per call: a retried purge may name fewer paths, and CloudFront refuses a reused
        // reference whose paths differ.
        InvalidationBatch: { CallerReference: `${reference}-${Date.now()}`, Paths: { Quantity: paths.length, Items: paths } },
      }),
    );
  }
}
