import { describe, expect, it } from 'vitest';
import { purposePolicy, type Principal } from '@media/core';
import type { EdgeInvalidation } from '@media/storage';
import { downloadUrl } from '../src/downloads';
import { purgeObjects } from '../src/item-lifecycle';
import { deleteMedia } from '../src/media-service';
import { fakePorts, readyRow } from './fakes';

const admin: Principal = { role: 'admin', sub: 'a-1', tenant: 'school-1', classrooms: [] };

/** The CDN's edge caches as a list of invalidations; `fail` makes the next one throw (throttled). */
class FakeEdge implements EdgeInvalidation {
  readonly invalidated: string[][] = [];
  fail: Error | undefined;
  async invalidate(keys: string[]): Promise<void> {
    if (this.fail) throw this.fail;
    this.invalidated.push([...keys].sort());
  }
}

/** A signer that names what it signed, as CdnUrls would sign it. */
const fakeCdn = {
  signed: [] as { key: string; expiresInSeconds: number }[],
  signDownload(input: { key: string; expiresInSeconds: number }) {
    this.signed.push(input);
    return {
      url: `https://cdn.test/${input.key}?Signature=x`,
      expiresAt: new Date(Date.now() + input.expiresInSeconds * 1000).toISOString(),
    };
  },
};

describe('delivery through a CDN (unit, in-memory ports)', () => {
  it("signs derivatives for the CDN with the purpose's lifetime, and keeps the original on S3", async () => {
    const ports = fakePorts();
    const row = readyRow(ports, { tenant: 'school-1', purpose: 'attendance', classroomId: 'c-1' });
    const deps = { ...ports.mediaPorts, cdn: fakeCdn };

    expect((await downloadUrl(deps, admin, row.id, 'thumb')).url).toBe(
      `https://cdn.test/derivatives/school-1/${row.id}/thumb.webp?Signature=x`,
    );
    expect(fakeCdn.signed.at(-1)).toEqual({
      key: `derivatives/school-1/${row.id}/thumb.webp`,
      expiresInSeconds: purposePolicy('attendance').downloadTtlSeconds,
    });
    expect((await downloadUrl(deps, admin, row.id, 'original')).url).toBe(`https://storage.test/media/originals/school-1/${row.id}`);
  });

  it("invalidates the deleted item's derivative paths, and only those, before recording the purge", async () => {
    const ports = fakePorts();
    const edge = new FakeEdge();
    const row = readyRow(ports, { tenant: 'school-1' });

    expect(await deleteMedia({ ...ports.mediaPorts, edge }, admin, row.id)).toEqual({ purged: true });
    expect(edge.invalidated).toEqual([[`derivatives/school-1/${row.id}/medium.webp`, `derivatives/school-1/${row.id}/thumb.webp`]]);
  });

  it("leaves the purge unrecorded when the invalidation is refused, so the sweeper's next purge invalidates again", async () => {
    const ports = fakePorts();
    const edge = new FakeEdge();
    edge.fail = new Error('TooManyInvalidationsInProgress');
    const row = readyRow(ports, { tenant: 'school-1' });

    expect(await deleteMedia({ ...ports.mediaPorts, edge }, admin, row.id)).toEqual({ purged: false });
    expect(ports.media.rows.get(row.id)).toMatchObject({ status: 'deleted', purgedAt: null });
    expect(ports.storage.keys.size).toBe(0);

    edge.fail = undefined;
    const deleted = ports.media.rows.get(row.id)!;
    expect(await purgeObjects({ ...ports.mediaPorts, edge }, deleted)).toBe(true);
    expect(edge.invalidated).toEqual([[`derivatives/school-1/${row.id}/medium.webp`, `derivatives/school-1/${row.id}/thumb.webp`]]);
  });
});
