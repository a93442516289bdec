import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import type { Problem, UploadTicket } from '@media/core';
import { USAGE_SHARDS, type Database } from '@media/db';
import { testDatabase, uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

/** Holds every shard of a school's counter from another connection, as slow transactions would, until `release`. */
async function holdSchool(db: Kysely<Database>, tenant: string): Promise<{ release: () => Promise<void> }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const done = db.transaction().execute(async (trx) => {
    await sql`insert into media_usage (tenant, scope, key, shard) select ${tenant}, 'school', '', shard from generate_series(0, ${USAGE_SHARDS - 1}) shard
              on conflict (tenant, scope, key, shard) do update set count = media_usage.count`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  return { release: async () => (release(), await done) };
}

// Lock waits need a second connection to the same server: PostgreSQL, not the single-connection PGlite.
describe.skipIf(!inject('databaseUrl'))('overload', () => {
  let other: Kysely<Database>;
  beforeAll(async () => {
    other = await testDatabase();
  });
  afterAll(() => other?.destroy());
  const small = { purpose: 'general', contentType: 'image/jpeg', size: 1000 };

  describe('a lock wait over its budget', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({ env: { MEDIA_DB_LOCK_TIMEOUT_MS: '200' } });
    });
    afterAll(() => stack?.close());

    it('answers 503 SERVICE_UNAVAILABLE with Retry-After, and writes nothing', async () => {
      const tenant = uniqueTenant();
      const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
      const held = await holdSchool(other, tenant);
      try {
        const answer = await stack.api<Problem>('POST', '/v1/uploads', { token, body: small });
        expect(answer.status).toBe(503);
        expect(answer.json.code).toBe('SERVICE_UNAVAILABLE');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      } finally {
        await held.release();
      }
      expect(await stack.deps.db.selectFrom('media').select('id').where('tenant', '=', tenant).execute()).toEqual([]);
      expect((await stack.api<UploadTicket>('POST', '/v1/uploads', { token, body: small })).status).toBe(201);
    });
  });

  describe('an exhausted connection pool', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startTestStack({
        env: { MEDIA_DB_POOL_SIZE: '1', MEDIA_DB_CONNECT_TIMEOUT_MS: '300', MEDIA_DB_LOCK_TIMEOUT_MS: '5000' },
      });
    });
    afterAll(() => stack?.close());

    it('answers 503 with Retry-After to the request that found no free connection, never 500', async () => {
      const tenant = uniqueTenant();
      const token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
      const held = await holdSchool(other, tenant);
      // The first upload takes the only connection and waits for the school's row.
      const first = stack.api('POST', '/v1/uploads', { token, body: small });
      await new Promise((r) => setTimeout(r, 100));
      let second: { status: number; headers: Headers; json: Problem };
      try {
        second = await stack.api<Problem>('POST', '/v1/uploads', { token, body: small });
      } finally {
        await held.release();
      }
      expect(second.status).toBe(503);
      expect(second.json.code).toBe('SERVICE_UNAVAILABLE');
      expect(second.headers.get('retry-after')).toBeTruthy();
      expect((await first).status).toBe(201);
    });
  });
});
