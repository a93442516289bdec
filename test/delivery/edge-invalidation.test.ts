import { CloudFrontClient, CreateInvalidationCommand, TooManyInvalidationsInProgress } from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudFrontInvalidation } from '@media/storage/cloudfront-invalidation';

const cloudFront = mockClient(CloudFrontClient);
afterEach(() => cloudFront.reset());

describe('CloudFront invalidation of a purged item (failure paths)', () => {
  const keys = [
    'derivatives/school-1/0196b2a4-7c1e-7d3a-9f00-123456789abc/thumb.webp',
    'derivatives/school-1/0196b2a4-7c1e-7d3a-9f00-123456789abc/medium.webp',
  ];

  it('throws when CloudFront refuses (too many invalidations in progress), so the purge stays unrecorded and is retried', async () => {
    cloudFront.on(CreateInvalidationCommand).rejects(new TooManyInvalidationsInProgress({ message: 'slow down', $metadata: {} }));
    await expect(new CloudFrontInvalidation('E2QWRUHAPOMQZL').invalidate(keys, 'item-1')).rejects.toThrow(/slow down/);
  });

  it('names each exact path, never a wildcard, with a fresh caller reference per attempt', async () => {
    cloudFront.on(CreateInvalidationCommand).resolves({});
    const invalidation = new CloudFrontInvalidation('E2QWRUHAPOMQZL');
    await invalidation.invalidate(keys, 'item-1');
    await new Promise((r) => setTimeout(r, 2));
    await invalidation.invalidate(keys, 'item-1');
    const sent = cloudFront.commandCalls(CreateInvalidationCommand).map((call) => call.args[0].input);
    expect(sent[0]).toMatchObject({
      DistributionId: 'E2QWRUHAPOMQZL',
      InvalidationBatch: { Paths: { Quantity: 2, Items: keys.map((key) => `/${key}`) } },
    });
    expect(sent[0]!.InvalidationBatch!.CallerReference).not.toBe(sent[1]!.InvalidationBatch!.CallerReference);
  });

  it('asks nothing of CloudFront when there is nothing to invalidate', async () => {
    await new CloudFrontInvalidation('E2QWRUHAPOMQZL').invalidate([], 'item-1');
    expect(cloudFront.commandCalls(CreateInvalidationCommand)).toEqual([]);
  });
});
