import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Problem, UploadTicket, UsageAnswer } from '@media/core';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { countingPendingUploads } from '../support/media-rows';
import { startTestStack, type TestStack } from '../support/test-stack';

const QUOTA = 5_000_000;

describe('abuse limits', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({
      env: { MEDIA_TENANT_QUOTA_BYTES: String(QUOTA), MEDIA_MAX_PENDING_UPLOADS_ATTENDANCE: '5' },
    });
  });
  afterAll(() => stack?.close());

  const small = { purpose: 'general', contentType: 'image/jpeg', size: 1000 };
  const teacherIn = (tenant: string, sub = 't-1') => stack.token({ role: 'teacher', tenant, sub, classrooms: ['c-1'] });
  // A ticket when the upload is granted, a problem when it is refused.
  const ask = (token: string, body: object = small) => stack.api<UploadTicket & Partial<Problem>>('POST', '/v1/uploads', { token, body });
  const askBatch = (token: string, count: number) =>
    stack.api<{ items: UploadTicket[] }>('POST', '/v1/uploads/batch', {
      token,
      body: { items: Array.from({ length: count }, () => small) },
    });
  async function fill(token: string, count: number): Promise<string[]> {
    const answer = await askBatch(token, count);
    expect(answer.status).toBe(201);
    return answer.json.items.map((item) => item.mediaId);
  }

  describe('unfinished uploads', () => {
    it('lets a principal hold 50; the 51st is 429 with a Retry-After of when the oldest expires', async () => {
      const tenant = uniqueTenant();
      const token = await teacherIn(tenant);
      const first = await ask(token);
      await fill(token, 49);
      const refused = await ask(token);
      expect(refused.status).toBe(429);
      expect(refused.json.code).toBe('TOO_MANY_PENDING_UPLOADS');
      const retryAfter = Number(refused.headers.get('retry-after'));
      const untilFirstExpires = (new Date(first.json.expiresAt).getTime() - Date.now()) / 1000;
      expect(retryAfter).toBeGreaterThanOrEqual(Math.floor(untilFirstExpires));
      expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilFirstExpires) + 1);
      expect(retryAfter).toBeLessThanOrEqual(600);
      // The limit is the principal's, not the school's.
      expect((await ask(await teacherIn(tenant, 't-2'))).status).toBe(201);
    });

    it('counts every item of a batch, and refuses a batch that does not fit as a whole', async () => {
      const tenant = uniqueTenant();
      const token = await teacherIn(tenant);
      await fill(token, 30);
      expect((await askBatch(token, 21)).status).toBe(429);
      expect(await countingPendingUploads(stack.deps.db, tenant, 't-1')).toBe(30);
      await fill(token, 20);
      expect((await ask(token)).status).toBe(429);
    });

    it('stops counting uploads whose POST has expired', async () => {
      const tenant = uniqueTenant();
      const token = await teacherIn(tenant);
      const ids = await fill(token, 50);
      await stack.deps.db
        .updateTable('media')
        .set({ uploadExpiresAt: new Date(Date.now() - 1000) })
        .where('id', 'in', ids.slice(0, 10))
        .execute();
      await fill(token, 10);
      expect((await ask(token)).status).toBe(429);
    });

    it('stops counting an upload once its file has arrived and been processed', async () => {
      const tenant = uniqueTenant();
      const token = await teacherIn(tenant);
      const photo = await makePhoto({ width: 64, height: 48 });
      const first = await ask(token, { purpose: 'general', contentType: 'image/jpeg', size: photo.length });
      await fill(token, 49);
      expect((await ask(token)).status).toBe(429);
      await stack.postToS3(first.json.upload, photo, 'image/jpeg');
      await stack.waitForStatus(first.json.mediaId, token);
      expect((await ask(token)).status).toBe(201);
    });

    it('takes the limit of the purpose asked for (attendance configured to 5)', async () => {
      const tenant = uniqueTenant();
      const token = await teacherIn(tenant);
      const attendance = { purpose: 'attendance', contentType: 'image/jpeg', size: 1000, classroomId: 'c-1' };
      for (let i = 0; i < 5; i++) expect((await ask(token, attendance)).status).toBe(201);
      expect((await ask(token, attendance)).status).toBe(429);
      // Other purposes keep the default of 50 unfinished uploads in all.
      expect((await ask(token)).status).toBe(201);
    });

    it('cannot be over-booked by concurrent requests', async () => {
      for (let round = 0; round < 3; round++) {
        const token = await teacherIn(uniqueTenant());
        const answers = await Promise.all(Array.from({ length: 12 }, () => askBatch(token, 9)));
        const accepted = answers.filter((a) => a.status === 201).length;
        expect(accepted, `round ${round}`).toBe(5);
        expect(answers.filter((a) => a.status === 429)).toHaveLength(7);
      }
    });
  });

  describe('the school quota', () => {
    const usedBytes = async (token: string) => {
      const usage = await stack.api<UsageAnswer>('GET', '/v1/usage?groupBy=purpose', { token });
      expect(usage.status).toBe(200);
      return usage.json.items.reduce((sum, item) => sum + item.bytes, 0);
    };

    it('refuses with 413 QUOTA_EXCEEDED exactly when the usage figures say it is full', async () => {
      const tenant = uniqueTenant();
      const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
      const photo = await makePhoto({ width: 64, height: 48 });
      const ready = await ask(admin, { purpose: 'general', contentType: 'image/jpeg', size: photo.length + 500 });
      await stack.postToS3(ready.json.upload, photo, 'image/jpeg');
      const processed = await stack.waitForStatus(ready.json.mediaId, admin);
      await ask(admin, { purpose: 'profile', contentType: 'image/jpeg', size: 2_000_000 });

      // Stored size of the processed item (its original without metadata), declared size of the unfinished one: as usage reports them.
      const used = await usedBytes(admin);
      expect(processed.size).toBeLessThan(photo.length);
      expect(used).toBe(processed.size! + 2_000_000);
      const overByOne = await ask(admin, { purpose: 'training', contentType: 'image/jpeg', size: QUOTA - used + 1 });
      expect(overByOne.status).toBe(413);
      expect(overByOne.json.code).toBe('QUOTA_EXCEEDED');
      expect((await ask(admin, { purpose: 'training', contentType: 'image/jpeg', size: QUOTA - used })).status).toBe(201);
      expect(await usedBytes(admin)).toBe(QUOTA);
      expect((await ask(admin, { purpose: 'general', contentType: 'image/jpeg', size: 1 })).status).toBe(413);
    });

    it('counts a batch as the sum of its items', async () => {
      const tenant = uniqueTenant();
      const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
      const items = Array.from({ length: 5 }, () => ({ purpose: 'training', contentType: 'image/jpeg', size: QUOTA / 5 }));
      const tooMuch = [...items.slice(0, 4), { ...items[0]!, size: QUOTA / 5 + 1 }];
      expect((await stack.api('POST', '/v1/uploads/batch', { token: admin, body: { items: tooMuch } })).status).toBe(413);
      expect(await usedBytes(admin)).toBe(0);
      expect((await stack.api('POST', '/v1/uploads/batch', { token: admin, body: { items } })).status).toBe(201);
    });

    it('gives space back when media is deleted', async () => {
      const tenant = uniqueTenant();
      const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
      const big = await ask(admin, { purpose: 'training', contentType: 'image/jpeg', size: QUOTA });
      expect((await ask(admin, { purpose: 'training', contentType: 'image/jpeg', size: 1 })).status).toBe(413);
      expect((await stack.api('DELETE', `/v1/media/${big.json.mediaId}`, { token: admin })).status).toBe(204);
      expect(await usedBytes(admin)).toBe(0);
      expect((await ask(admin, { purpose: 'training', contentType: 'image/jpeg', size: 1 })).status).toBe(201);
    });

    it("is per school: one school's usage never fills another's quota", async () => {
      const full = await stack.token({ role: 'admin', tenant: uniqueTenant(), sub: 'a-1' });
      expect((await ask(full, { purpose: 'training', contentType: 'image/jpeg', size: QUOTA })).status).toBe(201);
      const other = await stack.token({ role: 'admin', tenant: uniqueTenant(), sub: 'a-1' });
      expect(await usedBytes(other)).toBe(0);
      expect((await ask(other, { purpose: 'training', contentType: 'image/jpeg', size: QUOTA })).status).toBe(201);
    });
  });
});
