import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { createDatabase, migrateToLatest, seedMedia, type Database } from '@media/db';
import { isolatedDatabase } from '../pipeline/support/isolated-database';

describe('npm run seed progress', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let db: Kysely<Database>;

  beforeAll(async () => {
    database = await isolatedDatabase();
    db = await createDatabase({ url: database.url, poolSize: 2 });
    await migrateToLatest(db);
  }, 120_000);
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('tells after each chunk how many rows are written of the total, ending at the total', async () => {
    const seen: [number, number][] = [];
    const result = await seedMedia(db, {
      rows: 1000,
      schools: 3,
      chunkRows: 300,
      onProgress: (written, total) => seen.push([written, total]),
    });
    expect(result.rows).toBe(1000);
    expect(seen).toEqual([
      [250, 1000],
      [500, 1000],
      [750, 1000],
      [1000, 1000],
    ]);
  });
});
