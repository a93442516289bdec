import type { Config } from '@media/core';
import { noEdgeCache, type EdgeInvalidation } from '@media/storage';
import { CloudFrontInvalidation } from '@media/storage/cloudfront-invalidation';

/** For the functions that purge: a delete leaves the CDN's edge too, when a distribution is configured. */
export const edgeInvalidation = async (config: Config): Promise<{ edge: EdgeInvalidation }> => ({
  edge: config.cdn.distributionId ? new CloudFrontInvalidation(config.cdn.distributionId) : noEdgeCache,
});
