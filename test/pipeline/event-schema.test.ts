import './support/quiet';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import * as z from 'zod';
import { MediaEventSchema } from '@media/core';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { QueueLog } from './support/event-log';
import { upload } from './support/uploads';

const documentedSchema = async () => {
  const doc = await readFile(new URL('../../docs/events.md', import.meta.url), 'utf8');
  const block = /<!-- schema:begin -->\s*```json\n([\s\S]*?)\n```\s*<!-- schema:end -->/.exec(doc);
  return block ? JSON.parse(block[1]!) : null;
};

/** Every string anywhere in a value. */
const strings = (value: unknown): string[] =>
  typeof value === 'string' ? [value] : value && typeof value === 'object' ? Object.values(value).flatMap(strings) : [];

describe('outbound events', () => {
  it('are documented in docs/events.md with the schema the code enforces', async () => {
    expect(await documentedSchema()).toEqual(z.toJSONSchema(MediaEventSchema));
  });

  describe('as the pipeline sends them', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack();
    });
    afterAll(() => stack?.close());

    it('match that schema for ready, rejected and deleted, and never carry a URL', async () => {
      const tenant = uniqueTenant();
      const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
      const good = await upload(stack, token, await makePhoto({ width: 640, height: 480 }), { purpose: 'attendance', classroomId: 'c-1' });
      const bad = await upload(stack, token, await makePhoto({ width: 64, height: 48, format: 'png' }));
      await stack.waitForStatus(good.mediaId, token);
      await stack.waitForStatus(bad.mediaId, token);
      const admin = await stack.token({ role: 'admin', tenant, sub: 'admin-1' });
      expect((await stack.api('DELETE', `/v1/media/${good.mediaId}`, { token: admin })).status).toBe(204);

      const sent = (await new QueueLog(stack.sqs, stack.queues.events).drain()).messages.filter((m) => m.event.tenant === tenant);
      expect(sent.map((m) => m.event.type).sort()).toEqual(['media.deleted', 'media.ready', 'media.rejected']);
      for (const { event, body } of sent) {
        expect(MediaEventSchema.safeParse(event).error).toBeUndefined();
        expect(strings(event).filter((s) => /https?:|X-Amz-/i.test(s))).toEqual([]);
        expect(body).not.toMatch(/X-Amz-Signature/);
      }
    });
  });
});
