import { describe, expect, it } from 'vitest';
import { postgresUrl } from './database';
import { dropStaleDatabases, staleSuiteDatabases } from './database-server';

/** A run killed before its teardown leaves databases behind; a later run drops them once they are old. */
describe('databases left by killed runs', () => {
  const now = new Date('2026-12-05T12:00:00Z');
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);

  it("picks the suite's own databases older than the bound, and nothing else", () => {
    const databases = [
      { name: 'media_test_1796441549748_ca4d31', madeAt: hoursAgo(30) },
      { name: 'media_test_1796441549748_ca4d31_template', madeAt: hoursAgo(30) },
      { name: 'media_subjects_0a1b2c3d', madeAt: hoursAgo(13) },
      // A run going on now: young.
      { name: 'media_test_1796500000000_aa00ff', madeAt: hoursAgo(1) },
      // Not the suite's: a developer's own, the server's own.
      { name: 'media', madeAt: hoursAgo(300) },
      { name: 'media_dev', madeAt: hoursAgo(300) },
      { name: 'postgres', madeAt: hoursAgo(300) },
    ];
    expect(staleSuiteDatabases(databases, now, 12)).toEqual([
      'media_test_1796441549748_ca4d31',
      'media_test_1796441549748_ca4d31_template',
      'media_subjects_0a1b2c3d',
    ]);
  });

  it("reads the server's databases and their age, and leaves this run's alone", async () => {
    const dropped = await dropStaleDatabases(postgresUrl(), 12);
    expect(dropped.every((name) => name.startsWith('media_'))).toBe(true);
  });
});
