import { describe, expect, it } from 'vitest';

import * as z from 'zod';
import { fromZodError, MediaError, problemResponse } from '@media/core';

describe('problem+json', () => {
  it('renders a MediaError as RFC 9457 with its stable code', () => {
    const res = problemResponse(new MediaError('LEGAL_HOLD', 'held'), '/v1/media/x');
    expect(res.statusCode).toBe(423);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({
      status: 423,
      code: 'LEGAL_HOLD',
      detail: 'held',
      title: expect.any(String),
      type: expect.any(String),
      instance: '/v1/media/x',
    });
  });

  it('never leaks the message or stack of an unexpected error', () => {
    const res = problemResponse(new Error('password=hunter2 at db.ts:42'));
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('db.ts');
  });

  it('answers an internal MediaError with the generic sentence, not its own (which names keys and settings)', () => {
    const res = problemResponse(
      new MediaError('INTERNAL', 'invalid configuration: MEDIA_JWT_SECRET: too short; media m-1 names a key outside originals/school-1/'),
    );
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'INTERNAL', detail: 'An unexpected error occurred.' });
    expect(res.body).not.toContain('MEDIA_JWT_SECRET');
    expect(res.body).not.toContain('originals/');
  });

  it('answers 503 with Retry-After when the database connection is cut under the request (terminated, or lost)', () => {
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', syscall: 'read' });
    for (const error of [terminated, reset, new Error('Connection terminated unexpectedly')]) {
      const res = problemResponse(error);
      expect(res.statusCode, error.message).toBe(503);
      expect(res.headers['retry-after'], error.message).toBe('1');
      expect(JSON.parse(res.body).code).toBe('SERVICE_UNAVAILABLE');
    }
  });

  it('says which field failed validation without echoing its value', () => {
    const parsed = z.object({ size: z.number() }).safeParse({ size: '<script>' });
    const res = problemResponse(fromZodError(parsed.error!));
    const body = JSON.parse(res.body);
    expect(res.statusCode).toBe(400);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.issues[0].path).toBe('body.size');
    expect(res.body).not.toContain('<script>');
  });

  it('carries Retry-After for rate limits', () => {
    const res = problemResponse(new MediaError('TOO_MANY_PENDING_UPLOADS', 'slow down', { retryAfterSeconds: 600 }));
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('600');
  });
});
