/** Removes objects from the CDN's edge caches before their time is up (a deleted photo must not linger). */
export interface EdgeInvalidation {
  invalidate(keys: string[], reference: string): Promise<void>;
}

/** Nothing to invalidate: no CDN in front of the bucket (the default, and the local stack). */
export const noEdgeCache: EdgeInvalidation = { invalidate: async () => {} };
