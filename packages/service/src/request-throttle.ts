import { MediaError } from '@media/core';

/** A rate and the burst above it that a bucket holds when full. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export interface ThrottleLimits {
  /** Each school's requests, counted once its token is verified (never from a claim nobody signed). */
  school: RateLimit;
  /** Every request without a valid token, together: one budget, apart from every school's. */
  unauthenticated: RateLimit;
}

/** Schools remembered at once; idle ones (full buckets) are forgotten first, so the map stays bounded. */
const MAX_SCHOOLS_REMEMBERED = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets of one process (one Lambda instance, or the local server): a bucket per school and
 * one for requests without a valid token. In memory on purpose: no database work before a request
 * is admitted, so a flood costs the database nothing. The bound is per instance: a school gets at
 * most `perSecond` × the instances serving it (docs/operations.md § Throttles).
 */
export class RequestThrottle {
  private readonly schools = new Map<string, Bucket>();
  private readonly unauthenticated: Bucket;

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.unauthenticated = { tokens: limits.unauthenticated.burst, at: this.nowMs() };
  }

  /** Takes one request from the school's budget, or refuses it (429 RATE_LIMITED with Retry-After). */
  admitSchool(tenant: string): void {
    let bucket = this.schools.get(tenant);
    if (!bucket) {
      if (this.schools.size >= MAX_SCHOOLS_REMEMBERED) this.forgetIdleSchools();
      bucket = { tokens: this.limits.school.burst, at: this.nowMs() };
      this.schools.set(tenant, bucket);
    }
    this.take(bucket, this.limits.school, 'This school is sending too many requests; slow down and try again.');
  }

  /** Takes one request from the shared budget of requests without a valid token. */
  admitUnauthenticated(): void {
    this.take(this.unauthenticated, this.limits.unauthenticated, 'Too many requests without a valid token; try again later.');
  }

  private take(bucket: Bucket, limit: RateLimit, detail: string): void {
    const now = this.nowMs();
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
    throw new MediaError('RATE_LIMITED', detail, { retryAfterSeconds });
  }

  private forgetIdleSchools(): void {
    const now = this.nowMs();
    const { perSecond, burst } = this.limits.school;
    for (const [tenant, bucket] of this.schools) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) this.schools.delete(tenant);
    }
    // All busy: the oldest entries go (a forgotten school starts again from a full bucket).
    for (const tenant of this.schools.keys()) {
      if (this.schools.size < MAX_SCHOOLS_REMEMBERED) break;
      this.schools.delete(tenant);
    }
  }
}
