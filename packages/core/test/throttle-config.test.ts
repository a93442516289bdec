import { describe, expect, it } from 'vitest';
import { loadConfig } from '@media/core';

const BASE = { MEDIA_BUCKET: 'media-test', MEDIA_JWT_SECRET: 'a-secret-of-sixteen+', DATABASE_URL: 'postgres://localhost/media' };

describe('request throttle configuration', () => {
  it('gives each school 100 requests/s (burst 200) and requests without a token 50/s (burst 200) by default', () => {
    expect(loadConfig(BASE).throttle).toEqual({ school: { perSecond: 100, burst: 200 }, unauthenticated: { perSecond: 50, burst: 200 } });
  });

  it('reads the four settings, fractions of a request per second included', () => {
    const config = loadConfig({
      ...BASE,
      MEDIA_SCHOOL_REQUESTS_PER_SECOND: '0.5',
      MEDIA_SCHOOL_REQUEST_BURST: '10',
      MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND: '2',
      MEDIA_UNAUTHENTICATED_REQUEST_BURST: '4',
    });
    expect(config.throttle).toEqual({ school: { perSecond: 0.5, burst: 10 }, unauthenticated: { perSecond: 2, burst: 4 } });
  });

  it('refuses at cold start a rate of zero, a fractional burst, or a burst below its rate', () => {
    expect(() => loadConfig({ ...BASE, MEDIA_SCHOOL_REQUESTS_PER_SECOND: '0' })).toThrow(/MEDIA_SCHOOL_REQUESTS_PER_SECOND/);
    expect(() => loadConfig({ ...BASE, MEDIA_SCHOOL_REQUEST_BURST: '2.5' })).toThrow(/MEDIA_SCHOOL_REQUEST_BURST/);
    expect(() => loadConfig({ ...BASE, MEDIA_SCHOOL_REQUESTS_PER_SECOND: '300' })).toThrow(/MEDIA_SCHOOL_REQUEST_BURST must be at least/);
    expect(() => loadConfig({ ...BASE, MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND: '500' })).toThrow(
      /MEDIA_UNAUTHENTICATED_REQUEST_BURST must be at least/,
    );
  });
});
