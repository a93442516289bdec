import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { MediaRow } from '@media/db';
import { finishDeletion } from '../src/item-lifecycle';
import { fakePorts, readyRow } from './fakes';

/** A tombstone as an erasure's batch writes it: no announcement lease is held by anyone. */
function erasedRow(ports: ReturnType<typeof fakePorts>, fields: Partial<MediaRow> = {}): MediaRow {
  const row = readyRow(ports, { tenant: 'school-1', ...fields });
  Object.assign(ports.media.rows.get(row.id)!, {
    status: 'deleted',
    deletedAt: new Date(),
    deletedBy: 'erasure',
    leaseOwner: randomUUID(),
    leaseExpiresAt: null,
    eventPublishedAt: null,
  });
  return { ...ports.media.rows.get(row.id)! };
}

describe('finishing a deletion (unit, in-memory ports)', () => {
  it('announces a tombstone that holds no lease under one it takes, then removes every object and records the purge', async () => {
    const ports = fakePorts();
    const row = erasedRow(ports);

    expect(await finishDeletion(ports.mediaPorts, row)).toBe(true);

    expect(ports.events.sent.map((e) => [e.type, e.mediaId])).toEqual([['media.deleted', row.id]]);
    expect(ports.media.rows.get(row.id)).toMatchObject({ status: 'deleted', leaseOwner: null, leaseExpiresAt: null });
    expect(ports.media.rows.get(row.id)!.purgedAt).toBeInstanceOf(Date);
    expect(ports.storage.keys.size).toBe(0);
  });

  it('leaves the event to the worker already announcing it (a sweeper run), and still removes the objects', async () => {
    const ports = fakePorts();
    const row = erasedRow(ports);
    // A sweeper run found the row owing its event and holds the announcement lease right now.
    await ports.media.claimAnnouncement(row.id, 60);

    expect(await finishDeletion(ports.mediaPorts, row)).toBe(true);

    expect(ports.events.sent, 'sent once, by the lease holder, not here').toEqual([]);
    expect(ports.media.rows.get(row.id)!.eventPublishedAt).toBeNull();
    expect(ports.storage.keys.size).toBe(0);
  });

  it('never throws once the tombstone is written: a failed event and a failed purge are left to the sweeper', async () => {
    const ports = fakePorts();
    const row = erasedRow(ports);
    ports.events.fail = new Error('queue unavailable');
    ports.storage.failDeletes = new Error('S3 unavailable');

    expect(await finishDeletion(ports.mediaPorts, row)).toBe(false);

    expect(ports.media.rows.get(row.id)).toMatchObject({ status: 'deleted', eventPublishedAt: null, purgedAt: null });
    expect(ports.media.rows.get(row.id)!.leaseOwner, 'the lease it took is handed back').toBeNull();
  });
});
