import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { durablePgliteOptions } from '../src/durable-pglite';

// PGlite out of the box never asks the OS to flush (docs/architecture.md § Durability). If an
// upgrade of PGlite changes the filesystem layer this setup relies on, this is where it shows.
describe('the embedded database on a folder', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it('runs with fsync on and flushes the WAL to disk before a commit returns', { timeout: 240_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'media-durable-pglite-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    let flushes = 0;
    const pglite = new PGlite({ ...(await durablePgliteOptions(join(dir, 'pglite'), () => (flushes += 1))) });
    cleanup.push(() => pglite.close());
    await pglite.waitReady;

    const setting = async (name: string) => (await pglite.query<Record<string, string>>(`show ${name}`)).rows[0]![name];
    expect(await setting('fsync')).toBe('on');
    expect(await setting('synchronous_commit')).toBe('on');
    expect(await setting('wal_sync_method')).toBe('fsync');

    await pglite.exec('create table acknowledged (id int primary key)');
    const before = flushes;
    await pglite.query('insert into acknowledged values (1)');
    expect(flushes - before, 'flushes to disk for one committed insert').toBeGreaterThanOrEqual(1);
  });
});
