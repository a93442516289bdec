import './support/quiet';
import { readFile } from 'node:fs/promises';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENT_SUBSCRIPTIONS, type Service } from '@media/core';
import { MediaCountEventSchema, MediaEventSchema } from '@media/core';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { QueueLog } from './support/event-log';
import { upload } from './support/uploads';

/**
 * Each consumer reads its own queue, and its queue only ever receives what that service may know.
 * Written by hand from the access policy (who may read which purpose across the school), never
 * derived from the code's subscriptions.
 */
const EXPECTED_SUBSCRIPTIONS = [
  { consumer: 'ai-service', audience: 'full', purposes: ['profile', 'attendance', 'training'] },
  { consumer: 'attendance-service', audience: 'full', purposes: ['attendance'] },
  { consumer: 'user-service', audience: 'full', purposes: ['profile'] },
  { consumer: 'analytics-service', audience: 'counts', purposes: ['profile', 'attendance', 'training', 'general'] },
];

/** Fields that tell who or where: never in a counts-level event. */
const IDENTIFYING = ['subjectId', 'classroomId', 'variants', 'rejection', 'sha256', 'width', 'height'];

describe('events, per consumer', () => {
  it('document the counts cut in docs/events.md with the schema the code enforces', async () => {
    const doc = await readFile(new URL('../../docs/events.md', import.meta.url), 'utf8');
    const block = /<!-- counts-schema:begin -->\s*```json\n([\s\S]*?)\n```\s*<!-- counts-schema:end -->/.exec(doc);
    expect(block && JSON.parse(block[1]!)).toEqual(z.toJSONSchema(MediaCountEventSchema));
  });

  it('subscribe each service to the purposes it may read, analytics to counts only', () => {
    expect(EVENT_SUBSCRIPTIONS.map((s) => ({ ...s, purposes: [...s.purposes] }))).toEqual(EXPECTED_SUBSCRIPTIONS);
  });

  describe('in the local stack', () => {
    let stack: TestStack;
    let logs: Record<Service, QueueLog>;
    const tenant = uniqueTenant();
    let photo: Buffer;

    beforeAll(async () => {
      stack = await startTestStack();
      photo = await makePhoto({ width: 320, height: 240 });
      logs = Object.fromEntries(
        Object.entries(stack.queues.consumers).map(([consumer, queue]) => [consumer, new QueueLog(stack.sqs, queue!.url)]),
      ) as Record<Service, QueueLog>;
    });
    afterAll(() => stack?.close());

    const uploadAs = async (claims: Parameters<TestStack['token']>[0], request: Parameters<typeof upload>[3]) => {
      const token = await stack.token(claims);
      const { mediaId } = await upload(stack, token, photo, request);
      await stack.waitForStatus(mediaId, await stack.token({ role: 'admin', tenant, sub: 'admin-1' }));
      // The event goes out just after the row turns ready: wait until the tap has it.
      for (let i = 0; i < 50 && !(await new QueueLog(stack.sqs, stack.queues.events).eventsFor(mediaId)).length; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return mediaId;
    };
    const received = async (consumer: Service, mediaId: string) =>
      (await logs[consumer].eventsFor(mediaId)) as unknown as Record<string, unknown>[];

    it('has one queue per consumer that may receive events, each with a dead-letter queue after five receives', async () => {
      expect(Object.keys(stack.queues.consumers).sort()).toEqual(['ai-service', 'analytics-service', 'attendance-service', 'user-service']);
      for (const [consumer, queue] of Object.entries(stack.queues.consumers)) {
        const { Attributes } = await stack.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queue!.url, AttributeNames: ['RedrivePolicy'] }),
        );
        expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}'), consumer).toMatchObject({
          deadLetterTargetArn: expect.stringMatching(/-dlq$/),
        });
        expect(String(JSON.parse(Attributes!.RedrivePolicy!).maxReceiveCount), consumer).toBe('5');
      }
    });

    it('sends an attendance photo to attendance-service and ai-service with its ids, counts to analytics, nothing to user-service', async () => {
      const mediaId = await uploadAs(
        { role: 'service', tenant, sub: 'attendance-service' },
        { purpose: 'attendance', classroomId: 'room-1', subjectId: 'pupil-7' },
      );
      for (const consumer of ['attendance-service', 'ai-service'] as const) {
        const events = await received(consumer, mediaId);
        expect(
          events.map((e) => e.type),
          consumer,
        ).toEqual(['media.ready']);
        expect(MediaEventSchema.safeParse(events[0]).error).toBeUndefined();
        expect(events[0], consumer).toMatchObject({ subjectId: 'pupil-7', classroomId: 'room-1', purpose: 'attendance' });
      }
      expect(await received('user-service', mediaId)).toEqual([]);

      const counts = await received('analytics-service', mediaId);
      expect(counts.map((e) => e.type)).toEqual(['media.ready']);
      expect(MediaCountEventSchema.safeParse(counts[0]).error).toBeUndefined();
      expect(Object.keys(counts[0]!).filter((field) => IDENTIFYING.includes(field))).toEqual([]);
      expect(JSON.stringify(counts[0])).not.toMatch(/pupil-7|room-1/);
      expect(counts[0]).toMatchObject({ purpose: 'attendance', contentType: 'image/jpeg', size: expect.any(Number) });
    });

    it('sends a profile photo to user-service and ai-service, not to attendance-service', async () => {
      const mediaId = await uploadAs({ role: 'student', tenant, sub: 'pupil-8' }, { purpose: 'profile', subjectId: 'pupil-8' });
      for (const consumer of ['user-service', 'ai-service'] as const) {
        expect(
          (await received(consumer, mediaId)).map((e) => [e.type, e.subjectId]),
          consumer,
        ).toEqual([['media.ready', 'pupil-8']]);
      }
      expect(await received('attendance-service', mediaId)).toEqual([]);
      expect((await received('analytics-service', mediaId)).map((e) => e.subjectId)).toEqual([undefined]);
    });

    it('sends a general photo, which no service may read, to analytics only, as counts', async () => {
      const mediaId = await uploadAs({ role: 'student', tenant, sub: 'pupil-9' }, { purpose: 'general' });
      for (const consumer of ['user-service', 'ai-service', 'attendance-service'] as const) {
        expect(await received(consumer, mediaId), consumer).toEqual([]);
      }
      expect((await received('analytics-service', mediaId)).map((e) => e.type)).toEqual(['media.ready']);
    });

    it('sends a deletion the same ways: ids to who may read the purpose, counts to analytics', async () => {
      const mediaId = await uploadAs({ role: 'student', tenant, sub: 'pupil-10' }, { purpose: 'profile', subjectId: 'pupil-10' });
      const student = await stack.token({ role: 'student', tenant, sub: 'pupil-10' });
      expect((await stack.api('DELETE', `/v1/media/${mediaId}`, { token: student })).status).toBe(204);
      expect((await received('user-service', mediaId)).map((e) => [e.type, e.subjectId])).toEqual([
        ['media.ready', 'pupil-10'],
        ['media.deleted', 'pupil-10'],
      ]);
      const counts = await received('analytics-service', mediaId);
      expect(counts.map((e) => e.type)).toEqual(['media.ready', 'media.deleted']);
      for (const event of counts) expect(MediaCountEventSchema.safeParse(event).error).toBeUndefined();
      expect(await received('attendance-service', mediaId)).toEqual([]);
    });
  });
});
