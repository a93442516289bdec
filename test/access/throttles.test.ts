import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem } from '@media/core';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/** A burst of 5, refilled at one request per 1000 s: no refill can land while a test runs, however slow the machine. */
const BURST = 5;
const SLOW_REFILL_PER_SECOND = '0.001';

/**
 * Throttles by who is asking (docs/operations.md § Throttles), through the real HTTP server: a school
 * over its budget is refused with 429 and Retry-After, other schools are not, and requests without a
 * valid token draw on a budget of their own, never on a school's.
 */
describe('request throttles', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({
      env: {
        MEDIA_SCHOOL_REQUESTS_PER_SECOND: SLOW_REFILL_PER_SECOND,
        MEDIA_SCHOOL_REQUEST_BURST: String(BURST),
        MEDIA_UNAUTHENTICATED_REQUESTS_PER_SECOND: SLOW_REFILL_PER_SECOND,
        MEDIA_UNAUTHENTICATED_REQUEST_BURST: String(BURST),
      },
    });
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  const adminOf = async (tenant: string) => stack.token({ role: 'admin', tenant, sub: `admin-${tenant}` });
  const list = (token?: string) => stack.api<Problem>('GET', '/v1/media?limit=1', token ? { token } : {});

  it('refuses a school past its budget with 429 RATE_LIMITED and Retry-After; another school is unaffected', async () => {
    const busySchool = uniqueTenant();
    const busy = await adminOf(busySchool);
    const calm = await adminOf(uniqueTenant());
    for (let i = 0; i < BURST; i++) expect((await list(busy)).status, `request ${i + 1} of the burst`).toBe(200);

    const refused = await list(busy);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.json.code).toBe('RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after')), 'seconds until the budget holds a request again').toBeGreaterThanOrEqual(1);

    // Another person of the same school shares its budget; another school has its own.
    const colleague = await stack.token({ role: 'teacher', tenant: busySchool, sub: 't-2', classrooms: [] });
    expect((await list(colleague)).status).toBe(429);
    expect((await list(calm)).status).toBe(200);
  });

  it('counts requests without a valid token apart: their flood is refused, and a school still gets its answers', async () => {
    const school = await adminOf(uniqueTenant());
    const flood = await Promise.all(Array.from({ length: BURST * 4 }, (_, i) => list(i % 2 ? undefined : 'not.a.token')));
    const statuses = flood.map((res) => res.status);
    expect(statuses.filter((s) => s === 401).length, 'the unauthenticated budget answers its burst with 401').toBe(BURST);
    expect(statuses.filter((s) => s === 429).length, 'the rest of the flood is refused without touching a school').toBe(BURST * 3);
    expect(flood.find((res) => res.status === 429)!.json.code).toBe('RATE_LIMITED');

    for (let i = 0; i < BURST; i++) expect((await list(school)).status, `the school's request ${i + 1}`).toBe(200);
  });

  it('charges a forged token claiming a school to the unauthenticated budget, never to that school', async () => {
    const victim = uniqueTenant();
    // Well-formed, naming the victim school, signed by nobody the service trusts.
    const forged = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({
        sub: 'admin',
        tenant: victim,
        role: 'admin',
        iat: Math.floor(Date.now() / 1000),
        exp: Math.floor(Date.now() / 1000) + 600,
      }),
    ).toString('base64url')}.${Buffer.from('not-the-signature').toString('base64url')}`;
    for (let i = 0; i < BURST * 2; i++) expect([401, 429]).toContain((await list(forged)).status);

    const admin = await adminOf(victim);
    for (let i = 0; i < BURST; i++) expect((await list(admin)).status, `the school's request ${i + 1}`).toBe(200);
  });
});
