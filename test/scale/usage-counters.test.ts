import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Problem, UploadTicket, UsageAnswer } from '@media/core';
import { recountUsage } from '@media/db';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const run = promisify(execFile);
const PERSON_QUOTA = 3_000_000;

/** `npm run db:recount` on the run's database, for one school (tests share the database). */
async function recountCommand(tenant: string, ...flags: string[]): Promise<{ code: number; out: string }> {
  const env = { ...process.env, DATABASE_URL: inject('databaseUrl') || undefined };
  try {
    const { stdout } = await run('npx', ['tsx', 'packages/db/src/bin/recount.ts', '--tenant', tenant, ...flags], { env });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, out: failed.stdout };
  }
}

describe('usage counters', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // The deployed lock timeout (the config's default, not the test stack's): 100 concurrent uploads
    // of one school must fit within it.
    stack = await startTestStack({ env: { MEDIA_PERSON_QUOTA_BYTES: String(PERSON_QUOTA), MEDIA_DB_LOCK_TIMEOUT_MS: undefined } });
  });
  afterAll(() => stack?.close());

  const ask = (token: string, body: object) => stack.api<UploadTicket & Partial<Problem>>('POST', '/v1/uploads', { token, body });
  const usageOf = async (token: string, groupBy: 'purpose' | 'subject') =>
    (await stack.api<UsageAnswer>('GET', `/v1/usage?groupBy=${groupBy}`, { token })).json.items;

  it('takes 100 concurrent uploads of one school, none answered 5xx, and counts every one of them', async () => {
    const tenant = uniqueTenant();
    const tokens = await Promise.all(
      Array.from({ length: 10 }, (_, i) => stack.token({ role: 'teacher', tenant, sub: `t-${i}`, classrooms: ['c-1'] })),
    );
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => ask(tokens[i % 10]!, { purpose: 'general', contentType: 'image/jpeg', size: 1000 + i })),
    );
    expect(answers.map((a) => a.status).filter((s) => s !== 201)).toEqual([]);

    const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
    const expectedBytes = Array.from({ length: 100 }, (_, i) => 1000 + i).reduce((a, b) => a + b, 0);
    expect(await usageOf(admin, 'purpose')).toEqual([{ key: 'general', count: 100, bytes: expectedBytes }]);
    expect(await recountUsage(stack.deps.db, { tenant })).toMatchObject({ differences: [] });
  });

  it('follows an upload through processing and deletion, per purpose and per subject', async () => {
    const tenant = uniqueTenant();
    const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
    const photo = await makePhoto({ width: 64, height: 48 });
    const first = await ask(admin, { purpose: 'profile', contentType: 'image/jpeg', size: photo.length + 100, subjectId: 's-9' });
    const second = await ask(admin, { purpose: 'general', contentType: 'image/jpeg', size: 5000 });
    // An admin's upload naming no subject is about nobody (key ''), never about the admin.
    expect(await usageOf(admin, 'subject')).toEqual([
      { key: '', count: 1, bytes: 5000 },
      { key: 's-9', count: 1, bytes: photo.length + 100 },
    ]);
    await stack.postToS3(first.json.upload, photo, 'image/jpeg');
    const ready = await stack.waitForStatus(first.json.mediaId!, admin);
    // Processed: its stored size (the original less its metadata) replaces the declared one.
    expect(ready.size).toBeLessThanOrEqual(photo.length);
    expect(await usageOf(admin, 'purpose')).toEqual([
      { key: 'general', count: 1, bytes: 5000 },
      { key: 'profile', count: 1, bytes: ready.size },
    ]);
    expect((await stack.api('DELETE', `/v1/media/${second.json.mediaId}`, { token: admin })).status).toBe(204);
    expect(await usageOf(admin, 'purpose')).toEqual([{ key: 'profile', count: 1, bytes: ready.size }]);
    // The per-subject answer kept (and written once) before processing and deletion is not served again.
    expect(await usageOf(admin, 'subject')).toEqual([{ key: 's-9', count: 1, bytes: ready.size }]);
    expect(await recountUsage(stack.deps.db, { tenant })).toMatchObject({ differences: [] });
  });

  // The command opens the database itself: the machine's PostgreSQL (PGlite is the stack's alone).
  it.skipIf(!inject('databaseUrl'))(
    'finds counters that disagree with the rows (npm run db:recount), and repairs them with --fix',
    async () => {
      const tenant = uniqueTenant();
      const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
      await ask(admin, { purpose: 'general', contentType: 'image/jpeg', size: 4000 });
      expect((await recountCommand(tenant)).code).toBe(0);

      await stack.deps.db
        .updateTable('mediaUsage')
        .set({ reservedBytes: 1 })
        .where('tenant', '=', tenant)
        .where('scope', '=', 'purpose')
        .execute();
      const broken = await recountCommand(tenant);
      expect(broken.code).toBe(1);
      expect(broken.out).toContain(`${tenant} purpose "general": counted {"count":1,"storedBytes":0,"reservedBytes":1}`);
      expect((await recountCommand(tenant, '--fix')).code).toBe(1);
      expect((await recountCommand(tenant)).code).toBe(0);
      expect(await usageOf(admin, 'purpose')).toEqual([{ key: 'general', count: 1, bytes: 4000 }]);
    },
  );

  describe('the per-person cap', () => {
    it('stops a student at their own limit, saying so, while the school still has room', async () => {
      const tenant = uniqueTenant();
      const student = await stack.token({ role: 'student', tenant, sub: 's-1' });
      expect((await ask(student, { purpose: 'general', contentType: 'image/jpeg', size: PERSON_QUOTA - 10 })).status).toBe(201);
      const over = await ask(student, { purpose: 'general', contentType: 'image/jpeg', size: 11 });
      expect(over.status).toBe(413);
      expect(over.json.code).toBe('QUOTA_EXCEEDED');
      expect(over.json.detail).toMatch(/your personal storage limit/i);
      expect((await ask(student, { purpose: 'general', contentType: 'image/jpeg', size: 10 })).status).toBe(201);
      // Another student of the same school has their own cap.
      const other = await stack.token({ role: 'student', tenant, sub: 's-2' });
      expect((await ask(other, { purpose: 'general', contentType: 'image/jpeg', size: 1000 })).status).toBe(201);
    });

    it('applies to teachers, not to admins or services (bound by the school quota only)', async () => {
      const tenant = uniqueTenant();
      const teacher = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
      expect((await ask(teacher, { purpose: 'general', contentType: 'image/jpeg', size: PERSON_QUOTA + 1 })).status).toBe(413);
      const admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
      expect((await ask(admin, { purpose: 'general', contentType: 'image/jpeg', size: PERSON_QUOTA + 1 })).status).toBe(201);
      const ai = await stack.token({ role: 'service', tenant, sub: 'ai-service' });
      expect((await ask(ai, { purpose: 'training', contentType: 'image/jpeg', size: PERSON_QUOTA + 1 })).status).toBe(201);
    });

    it('gives a person their space back when their upload is deleted', async () => {
      const tenant = uniqueTenant();
      const student = await stack.token({ role: 'student', tenant, sub: 's-1' });
      const big = await ask(student, { purpose: 'general', contentType: 'image/jpeg', size: PERSON_QUOTA });
      expect((await ask(student, { purpose: 'general', contentType: 'image/jpeg', size: 1 })).status).toBe(413);
      expect((await stack.api('DELETE', `/v1/media/${big.json.mediaId}`, { token: student })).status).toBe(204);
      expect((await ask(student, { purpose: 'general', contentType: 'image/jpeg', size: 1 })).status).toBe(201);
    });
  });
});
