import { describe, expect, it } from 'vitest';
import { MediaError, type Principal, type UploadRequest } from '@media/core';
import { requestUploads } from '../src/upload-service';
import { fakePorts } from './fakes';

const teacher: Principal = { role: 'teacher', sub: 't-1', tenant: 'school-1', classrooms: ['c-1'] };
const photo = (size = 1000): UploadRequest => ({ purpose: 'general', contentType: 'image/jpeg', size, filename: 'photo.jpg' });

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MediaError) return { code: error.code, retryAfterSeconds: error.extra.retryAfterSeconds };
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('requestUploads (unit, in-memory ports)', () => {
  it('writes one pending row per item and presigns a POST for its incoming key, both ending at the same moment', async () => {
    const ports = fakePorts();
    const tickets = await requestUploads(ports.uploadPorts, teacher, [photo(1000), photo(2000)]);

    expect(tickets).toHaveLength(2);
    for (const [i, ticket] of tickets.entries()) {
      const row = ports.media.rows.get(ticket.mediaId)!;
      expect(row).toMatchObject({
        status: 'pending',
        tenant: 'school-1',
        uploadedBy: 't-1',
        purpose: 'general',
        declaredSize: [1000, 2000][i],
        filename: 'photo.jpg',
      });
      expect(ports.storage.signed[i]).toMatchObject({
        key: `incoming/school-1/${ticket.mediaId}`,
        contentType: 'image/jpeg',
        maxBytes: [1000, 2000][i],
      });
      expect(row.uploadExpiresAt.toISOString()).toBe(ticket.expiresAt);
      expect(ticket.maxBytes).toBe([1000, 2000][i]);
    }
    expect(ports.media.reservations).toEqual(['school-1']);
  });

  it('refuses a batch as a whole when one item is not allowed: no row, no URL', async () => {
    const ports = fakePorts();
    const student: Principal = { role: 'student', sub: 's-1', tenant: 'school-1', classrooms: [] };
    const answer = await refusal(requestUploads(ports.uploadPorts, student, [photo(), { ...photo(), purpose: 'training' }]));

    expect(answer.code).toBe('FORBIDDEN');
    expect(ports.media.rows.size).toBe(0);
    expect(ports.storage.signed).toEqual([]);
  });

  it('counts every item of a batch against the pending limit, and says when enough uploads will have expired', async () => {
    const ports = fakePorts({ MEDIA_MAX_PENDING_UPLOADS: '3' });
    const soon = new Date(Date.now() + 42_000);
    ports.media.add({ tenant: 'school-1', uploadedBy: 't-1', uploadExpiresAt: soon });
    ports.media.add({ tenant: 'school-1', uploadedBy: 't-1', uploadExpiresAt: new Date(Date.now() + 500_000) });

    const answer = await refusal(requestUploads(ports.uploadPorts, teacher, [photo(), photo()]));
    expect(answer.code).toBe('TOO_MANY_PENDING_UPLOADS');
    // One too many: the first open upload to expire frees the place.
    expect(answer.retryAfterSeconds).toBeGreaterThanOrEqual(41);
    expect(answer.retryAfterSeconds).toBeLessThanOrEqual(42);
    expect(ports.media.rows.size).toBe(2);

    expect(await requestUploads(ports.uploadPorts, teacher, [photo()])).toHaveLength(1);
  });

  it('no longer counts uploads whose POST has expired, nor other people’s', async () => {
    const ports = fakePorts({ MEDIA_MAX_PENDING_UPLOADS: '1' });
    ports.media.add({ tenant: 'school-1', uploadedBy: 't-1', uploadExpiresAt: new Date(Date.now() - 1000) });
    ports.media.add({ tenant: 'school-1', uploadedBy: 't-2' });
    ports.media.add({ tenant: 'school-2', uploadedBy: 't-1' });

    expect(await requestUploads(ports.uploadPorts, teacher, [photo()])).toHaveLength(1);
  });

  it('refuses what would take the school over its quota, counting declared sizes of unfinished uploads', async () => {
    const ports = fakePorts({ MEDIA_TENANT_QUOTA_BYTES: '10000' });
    ports.media.add({ tenant: 'school-1', status: 'ready', size: 6000, declaredSize: 9000 });
    ports.media.add({ tenant: 'school-1', status: 'pending', declaredSize: 3000, uploadedBy: 't-2' });
    ports.media.add({ tenant: 'school-1', status: 'deleted', size: 50_000 });

    expect((await refusal(requestUploads(ports.uploadPorts, teacher, [photo(1001)]))).code).toBe('QUOTA_EXCEEDED');
    expect(await requestUploads(ports.uploadPorts, teacher, [photo(1000)])).toHaveLength(1);
  });

  it('refuses what would take a teacher over their own cap, naming whose limit it is', async () => {
    const ports = fakePorts({ MEDIA_PERSON_QUOTA_BYTES: '5000' });
    ports.media.add({ tenant: 'school-1', status: 'ready', size: 4500, uploadedBy: 't-1' });

    expect((await refusal(requestUploads(ports.uploadPorts, teacher, [photo(501)]))).code).toBe('QUOTA_EXCEEDED');
    expect(await requestUploads(ports.uploadPorts, teacher, [photo(500)])).toHaveLength(1);
  });
});
