import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DownloadAnswer, Problem, UploadTicket } from '@media/core';
import type { MediaRow } from '@media/db';
import { contentDisposition } from '@media/storage';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { seedReadyMedia } from './seeded-media';

/** When a presigned GET stops working, from its own signature: X-Amz-Date + X-Amz-Expires. */
function signedExpiry(url: string): { expiresAtMs: number; lifetimeSeconds: number } {
  const query = new URL(url).searchParams;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(query.get('X-Amz-Date')!)!;
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const lifetimeSeconds = Number(query.get('X-Amz-Expires'));
  return { expiresAtMs: signedAt + lifetimeSeconds * 1000, lifetimeSeconds };
}

/** What RFC 6266 / 8187 allow in the two file-name forms: nothing that could end the header. */
const SAFE_DISPOSITION = /^inline; filename="[A-Za-z0-9._ -]+"; filename\*=UTF-8''[A-Za-z0-9%._~-]+$/;

describe('presigned URLs', () => {
  let stack: TestStack;
  let admin: string;
  const tenant = uniqueTenant();
  const items = {} as Record<'profile' | 'attendance' | 'training' | 'general', MediaRow>;

  beforeAll(async () => {
    stack = await startTestStack();
    admin = await stack.token({ role: 'admin', tenant, sub: 'admin-1' });
    const photo = await makePhoto({ width: 64, height: 48 });
    const purposes = ['profile', 'attendance', 'training', 'general'] as const;
    const rows = await seedReadyMedia(
      stack,
      purposes.map((purpose) => ({ tenant, purpose, subjectId: 'p-1', classroomId: 'room-1', uploadedBy: 'admin-1' })),
      photo,
    );
    purposes.forEach((purpose, i) => (items[purpose] = rows[i]!));
  });
  afterAll(() => stack?.close());

  it('lets attendance downloads live 5 minutes and the others 15, and says so truthfully in expiresAt', async () => {
    for (const [purpose, lifetime] of [
      ['attendance', 300],
      ['profile', 900],
      ['training', 900],
      ['general', 900],
    ] as const) {
      const answer = await stack.api<DownloadAnswer>('GET', `/v1/media/${items[purpose].id}/download?variant=thumb`, { token: admin });
      const after = Date.now();
      expect(answer.status).toBe(200);
      const signed = signedExpiry(answer.json.url);
      expect(signed.lifetimeSeconds, purpose).toBe(lifetime);
      expect(new Date(answer.json.expiresAt).getTime(), purpose).toBe(signed.expiresAtMs);
      // Signed (at a whole second) while the request was in flight: it lives no longer than the
      // lifetime counted from the answer.
      expect(signed.expiresAtMs, purpose).toBeLessThanOrEqual(after + lifetime * 1000);
    }
  });

  it("lets upload POSTs live at most 10 minutes, and expiresAt is the signed policy's own expiration", async () => {
    const answer = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: admin,
      body: { purpose: 'general', contentType: 'image/jpeg', size: 1000 },
    });
    const after = Date.now();
    expect(answer.status).toBe(201);
    const policy = JSON.parse(Buffer.from(answer.json.upload.fields.Policy ?? '', 'base64').toString('utf8'));
    const policyExpiry = new Date(policy.expiration).getTime();
    const expiresAt = new Date(answer.json.expiresAt).getTime();
    expect(policyExpiry).toBeLessThanOrEqual(after + 600_000);
    expect(expiresAt).toBe(policyExpiry);
    // The pending row stops counting against the limits exactly when the POST stops working.
    expect((await stack.deps.media.findById(answer.json.mediaId))?.uploadExpiresAt.getTime()).toBe(expiresAt);
  });

  it('signs the stored key of the asked-for variant and nothing a request names', async () => {
    const item = items.general;
    const answer = await stack.api<DownloadAnswer>('GET', `/v1/media/${item.id}/download?variant=small`, { token: admin });
    const stored = item.variants.find((v) => v.name === 'small')!;
    expect(new URL(answer.json.url).pathname).toBe(`/${stack.bucket}/${stored.key}`);
    expect(stored.key).toBe(`derivatives/${tenant}/${item.id}/small.webp`);

    for (const query of [
      'variant=small&key=originals/other-school/x',
      'variant=../original',
      'variant=small&variant=original',
      'variant=ORIGINAL',
    ]) {
      const refused = await stack.api<Problem>('GET', `/v1/media/${item.id}/download?${query}`, { token: admin });
      expect(refused.status, query).toBe(400);
      expect(refused.json.code, query).toBe('VALIDATION_FAILED');
    }
    for (const id of ['..%2F..%2Foriginals', `${item.id}%2F..`, item.id.toUpperCase().replace(/-/g, '')]) {
      expect((await stack.api('GET', `/v1/media/${id}/download?variant=small`, { token: admin })).status, id).toBe(404);
    }
  });

  it("refuses to sign a key outside the record's own place, even if the record says so", async () => {
    const row = (
      await seedReadyMedia(
        stack,
        [{ tenant, purpose: 'general', subjectId: 'p-1', classroomId: null, uploadedBy: 'admin-1' }],
        await makePhoto({ width: 40, height: 30 }),
      )
    )[0]!;
    const elsewhere = row.variants.map((v) => (v.name === 'thumb' ? { ...v, key: `derivatives/other-school/${row.id}/thumb.webp` } : v));
    await stack.deps.db
      .updateTable('media')
      .set({ variants: JSON.stringify(elsewhere) })
      .where('id', '=', row.id)
      .execute();
    const answer = await stack.api<Partial<DownloadAnswer>>('GET', `/v1/media/${row.id}/download?variant=thumb`, { token: admin });
    expect(answer.status).toBe(500);
    expect(answer.json.url).toBeUndefined();
    expect(JSON.stringify(answer.json)).not.toContain('other-school');
  });

  it('serves downloads with a safe file name and the stored content type, whatever the uploader called the file', async () => {
    const photo = await makePhoto({ width: 64, height: 48 });
    const hostile = `évil"; filename*=UTF-8''x.html\r\nSet-Cookie: session=stolen\r\n\r\n<script>\u202e${'😀'.repeat(80)}.jpg`;
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: admin,
      body: { purpose: 'general', contentType: 'image/jpeg', size: photo.length, filename: hostile },
    });
    expect(requested.status).toBe(201);
    expect((await stack.postToS3(requested.json.upload, photo, 'image/jpeg')).status).toBe(204);
    const ready = await stack.waitForStatus(requested.json.mediaId, admin);
    expect(ready.filename).not.toMatch(/[\r\n\u202e]/);

    for (const variant of ['original', 'medium']) {
      const answer = await stack.api<DownloadAnswer>('GET', `/v1/media/${ready.id}/download?variant=${variant}`, { token: admin });
      const served = await fetch(answer.json.url);
      expect(served.status).toBe(200);
      await served.arrayBuffer();
      expect(served.headers.get('set-cookie')).toBeNull();
      expect(served.headers.get('content-type')).toBe(variant === 'original' ? 'image/jpeg' : 'image/webp');
      const disposition = served.headers.get('content-disposition')!;
      expect(disposition).toMatch(SAFE_DISPOSITION);
      expect(disposition.startsWith('inline; filename="_vil__ filename__UTF-8__x.htmlSet-Cookie_ session_stolen_script_')).toBe(true);
    }
  });

  it('keeps a lone surrogate in a file name from breaking the download', async () => {
    const photo = await makePhoto({ width: 40, height: 30 });
    const body = `{"purpose":"general","contentType":"image/jpeg","size":${photo.length},"filename":"half \\ud83d of an emoji.jpg"}`;
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', { token: admin, body });
    expect(requested.status).toBe(201);
    await stack.postToS3(requested.json.upload, photo, 'image/jpeg');
    const ready = await stack.waitForStatus(requested.json.mediaId, admin);
    expect(ready.filename).toBe('half \ufffd of an emoji.jpg');
    const answer = await stack.api<DownloadAnswer>('GET', `/v1/media/${ready.id}/download?variant=thumb`, { token: admin });
    expect(answer.status).toBe(200);
    expect((await fetch(answer.json.url)).headers.get('content-disposition')).toBe(
      `inline; filename="half _ of an emoji-thumb.webp"; filename*=UTF-8''half%20%EF%BF%BD%20of%20an%20emoji-thumb.webp`,
    );
  });

  it('stops working once expiresAt has passed', async () => {
    const { key, contentType } = items.profile.variants.find((v) => v.name === 'thumb')!;
    const link = await stack.deps.storage.presignDownload({ key, contentType, expiresInSeconds: 1, contentDisposition: 'inline' });
    expect((await fetch(link.url)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, new Date(link.expiresAt).getTime() - Date.now() + 1100));
    expect((await fetch(link.url)).status).toBe(403);
  });
});

describe('contentDisposition', () => {
  it('never throws and never lets anything but safe characters into the header, for any name', () => {
    fc.assert(
      fc.property(fc.option(fc.string({ unit: 'binary', maxLength: 400 }), { nil: null }), (name) => {
        expect(contentDisposition(name, 'fallback.jpg')).toMatch(SAFE_DISPOSITION);
      }),
      { numRuns: 2000 },
    );
  });

  it('cuts long names by whole characters', () => {
    const value = contentDisposition(`${'a'.repeat(149)}😀😀`, 'x');
    expect(value.endsWith(`filename*=UTF-8''${'a'.repeat(149)}%F0%9F%98%80`)).toBe(true);
  });
});
