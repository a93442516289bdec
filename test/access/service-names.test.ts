import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaRow } from '@media/db';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { seedReadyMedia } from './seeded-media';

/**
 * The attack of the issue: a person's token carrying a service's name. Such a token is refused
 * outright, so it can neither read nor delete what the service uploaded.
 */
describe('a person named like a service', () => {
  let stack: TestStack;
  const tenant = uniqueTenant();
  let profile: MediaRow;
  let training: MediaRow;

  beforeAll(async () => {
    stack = await startTestStack();
    const rows = await seedReadyMedia(
      stack,
      [
        { tenant, purpose: 'profile', subjectId: 'pupil-7', classroomId: null, uploadedBy: 'user-service' },
        { tenant, purpose: 'training', subjectId: 'pupil-7', classroomId: null, uploadedBy: 'ai-service' },
      ],
      await makePhoto({ width: 64, height: 48 }),
    );
    profile = rows[0]!;
    training = rows[1]!;
  });
  afterAll(() => stack?.close());

  it('cannot read or delete what user-service uploaded with a student token whose sub is user-service', async () => {
    const token = await stack.token({ role: 'student', tenant, sub: 'user-service' });
    expect((await stack.api('GET', `/v1/media/${profile.id}`, { token })).status).toBe(401);
    expect((await stack.api('GET', `/v1/media/${profile.id}/download?variant=original`, { token })).status).toBe(401);
    expect((await stack.api('DELETE', `/v1/media/${profile.id}`, { token })).status).toBe(401);
    expect((await stack.deps.media.findById(profile.id))?.status).toBe('ready');
  });

  it('cannot delete training items with a teacher token whose sub is ai-service', async () => {
    const token = await stack.token({ role: 'teacher', tenant, sub: 'ai-service', classrooms: ['room-1'] });
    expect((await stack.api('DELETE', `/v1/media/${training.id}`, { token })).status).toBe(401);
    expect((await stack.deps.media.findById(training.id))?.status).toBe('ready');
  });

  it('leaves the services themselves their access', async () => {
    const userService = await stack.token({ role: 'service', tenant, sub: 'user-service' });
    expect((await stack.api('GET', `/v1/media/${profile.id}`, { token: userService })).status).toBe(200);
  });
});
