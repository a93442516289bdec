import { describe, expect, it } from 'vitest';
import { purposePolicy, type Principal } from '@media/core';
import { downloadUrl } from '../src/downloads';
import { deleteMedia, getMedia, setLegalHold, usage } from '../src/media-service';
import { codeOf, fakePorts, readyRow } from './fakes';

const admin: Principal = { role: 'admin', sub: 'a-1', tenant: 'school-1', classrooms: [] };

describe('media operations (unit, in-memory ports)', () => {
  it('answers NOT_FOUND for another school’s item and for a deleted one, never its record', async () => {
    const ports = fakePorts();
    const elsewhere = readyRow(ports, { tenant: 'school-2' });
    const deleted = readyRow(ports, { tenant: 'school-1', status: 'deleted' });

    expect(await codeOf(getMedia(ports.mediaPorts, admin, elsewhere.id))).toBe('NOT_FOUND');
    expect(await codeOf(getMedia(ports.mediaPorts, admin, deleted.id))).toBe('NOT_FOUND');
    expect(await codeOf(downloadUrl(ports.mediaPorts, admin, elsewhere.id, 'thumb'))).toBe('NOT_FOUND');
  });

  it('signs the stored key of a variant, for the purpose’s URL lifetime, named after the file', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1', purpose: 'attendance', classroomId: 'c-1', filename: 'class photo.jpg' });

    const answer = await downloadUrl(ports.mediaPorts, admin, row.id, 'thumb');

    expect(answer.url).toBe(`https://storage.test/media/derivatives/school-1/${row.id}/thumb.webp`);
    expect(ports.storage.signed).toEqual([
      {
        key: `derivatives/school-1/${row.id}/thumb.webp`,
        contentType: 'image/webp',
        expiresInSeconds: purposePolicy('attendance').downloadTtlSeconds,
        contentDisposition: expect.stringContaining('class photo-thumb.webp'),
      },
    ]);
  });

  it('answers NOT_READY before processing has finished, and signs nothing', async () => {
    const ports = fakePorts();
    const pending = ports.media.add({ tenant: 'school-1' });

    expect(await codeOf(downloadUrl(ports.mediaPorts, admin, pending.id, 'medium'))).toBe('NOT_READY');
    expect(ports.storage.signed).toEqual([]);
  });

  it('refuses to sign a key outside the item’s own place, even if its record names one', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1' });
    row.variants[0]!.key = `derivatives/school-2/${row.id}/thumb.webp`;

    expect(await codeOf(downloadUrl(ports.mediaPorts, admin, row.id, 'thumb'))).toBe('INTERNAL');
    expect(ports.storage.signed).toEqual([]);
  });

  it('tombstones, announces media.deleted once, then removes every object and records the purge', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1' });
    ports.storage.keys.add(`derivatives/school-1/${row.id}/stray.webp`);
    ports.storage.keys.add('originals/school-1/someone-else');

    expect(await deleteMedia(ports.mediaPorts, admin, row.id)).toEqual({ purged: true });

    expect(ports.media.rows.get(row.id)).toMatchObject({ status: 'deleted', deletedBy: 'a-1', leaseOwner: null });
    expect(ports.media.rows.get(row.id)!.eventPublishedAt).toBeInstanceOf(Date);
    expect(ports.media.rows.get(row.id)!.purgedAt).toBeInstanceOf(Date);
    expect(ports.events.sent.map((e) => [e.type, e.mediaId])).toEqual([['media.deleted', row.id]]);
    expect([...ports.storage.keys]).toEqual(['originals/school-1/someone-else']);
  });

  it('still deletes when the event cannot be sent: the lease goes back so the sweeper announces it later', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1' });
    ports.events.fail = new Error('queue unavailable');

    expect(await deleteMedia(ports.mediaPorts, admin, row.id)).toEqual({ purged: true });
    expect(ports.media.rows.get(row.id)).toMatchObject({ status: 'deleted', eventPublishedAt: null, leaseOwner: null });
    expect(ports.storage.keys.size).toBe(0);
  });

  it('reports purged: false when storage fails half-way, leaving the purge to the sweeper', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1' });
    ports.storage.failDeletes = new Error('S3 unavailable');

    expect(await deleteMedia(ports.mediaPorts, admin, row.id)).toEqual({ purged: false });
    expect(ports.media.rows.get(row.id)).toMatchObject({ status: 'deleted', purgedAt: null });
  });

  it('refuses to delete an item under legal hold with LEGAL_HOLD, and touches nothing', async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1' });
    await setLegalHold(ports.mediaPorts, admin, row.id, true);

    expect(await codeOf(deleteMedia(ports.mediaPorts, admin, row.id))).toBe('LEGAL_HOLD');
    expect(ports.media.rows.get(row.id)!.status).toBe('ready');
    expect(ports.storage.keys.size).toBe(3);
    expect(ports.events.sent).toEqual([]);
  });

  it('gives usage figures to an administrator and refuses them to a student', async () => {
    const ports = fakePorts();
    readyRow(ports, { tenant: 'school-1', purpose: 'general', size: 5000 });
    const student: Principal = { role: 'student', sub: 's-1', tenant: 'school-1', classrooms: [] };

    expect(await usage(ports.mediaPorts, admin, 'purpose')).toEqual({ items: [{ key: 'general', count: 1, bytes: 5000 }] });
    expect(await codeOf(usage(ports.mediaPorts, student, 'purpose'))).toBe('FORBIDDEN');
  });
});
