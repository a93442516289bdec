import { describe, expect, it } from 'vitest';
import type { MediaError } from '@media/core';
import { RequestThrottle } from '../src/request-throttle';

const limits = { school: { perSecond: 2, burst: 4 }, unauthenticated: { perSecond: 1, burst: 2 } };

/** A throttle on a clock the test moves by hand. */
function throttleAt() {
  let now = 0;
  const throttle = new RequestThrottle(limits, () => now);
  return { throttle, advance: (seconds: number) => (now += seconds * 1000) };
}

const refusal = (admit: () => void): MediaError | undefined => {
  try {
    admit();
    return undefined;
  } catch (error) {
    return error as MediaError;
  }
};

describe('request throttle', () => {
  it('admits a school up to its burst, then refuses with RATE_LIMITED and the seconds until a request fits', () => {
    const { throttle } = throttleAt();
    for (let i = 0; i < 4; i++) expect(refusal(() => throttle.admitSchool('school-1'))).toBeUndefined();
    const refused = refusal(() => throttle.admitSchool('school-1'));
    expect(refused?.code).toBe('RATE_LIMITED');
    expect(refused?.status).toBe(429);
    expect(refused?.extra.retryAfterSeconds).toBe(1);
  });

  it('refills at the school rate, never above the burst', () => {
    const { throttle, advance } = throttleAt();
    for (let i = 0; i < 4; i++) throttle.admitSchool('school-1');
    advance(1); // two requests' worth
    expect(refusal(() => throttle.admitSchool('school-1'))).toBeUndefined();
    expect(refusal(() => throttle.admitSchool('school-1'))).toBeUndefined();
    expect(refusal(() => throttle.admitSchool('school-1'))?.code).toBe('RATE_LIMITED');
    advance(3600);
    for (let i = 0; i < 4; i++) expect(refusal(() => throttle.admitSchool('school-1'))).toBeUndefined();
    expect(refusal(() => throttle.admitSchool('school-1'))?.code).toBe('RATE_LIMITED');
  });

  it('keeps each school to its own budget, and requests without a token to theirs', () => {
    const { throttle } = throttleAt();
    for (let i = 0; i < 4; i++) throttle.admitSchool('school-1');
    for (let i = 0; i < 2; i++) throttle.admitUnauthenticated();
    expect(refusal(() => throttle.admitSchool('school-1'))?.code).toBe('RATE_LIMITED');
    expect(refusal(() => throttle.admitUnauthenticated())?.code).toBe('RATE_LIMITED');
    for (let i = 0; i < 4; i++)
      expect(
        refusal(() => throttle.admitSchool('school-2')),
        'school-2 untouched',
      ).toBeUndefined();
  });

  it('asks a caller to wait as long as the slow unauthenticated refill takes', () => {
    const { throttle } = throttleAt();
    throttle.admitUnauthenticated();
    throttle.admitUnauthenticated();
    expect(refusal(() => throttle.admitUnauthenticated())?.extra.retryAfterSeconds).toBe(1);
  });

  it('remembers a bounded number of schools: when full, it forgets the idle ones, not the busy', () => {
    const { throttle, advance } = throttleAt();
    for (let i = 0; i < 4; i++) throttle.admitSchool('busy');
    for (let n = 1; n < 10_000; n++) throttle.admitSchool(`school-${n}`);
    advance(1); // the others (one request each) are full again; 'busy' has two requests' worth back
    throttle.admitSchool('one-too-many');
    expect(refusal(() => throttle.admitSchool('busy'))).toBeUndefined();
    expect(refusal(() => throttle.admitSchool('busy'))).toBeUndefined();
    expect(refusal(() => throttle.admitSchool('busy'))?.code, 'its bucket was kept, not started afresh').toBe('RATE_LIMITED');
  });
});
