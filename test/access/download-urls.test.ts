import { generateKeyPairSync, verify } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMediaId, type DownloadUrlsAnswer, type Problem, type UploadTicket } from '@media/core';
import type { MediaRow } from '@media/db';
import { CdnUrls } from '@media/storage';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { seedReadyMedia } from './seeded-media';

describe("POST /v1/media/download-urls (a gallery's URLs at once)", () => {
  let stack: TestStack;
  let teacher: string;
  const tenant = uniqueTenant();
  const elsewhere = uniqueTenant();
  let own: MediaRow; // the teacher's own profile photo: every variant
  let pupil: MediaRow; // a pupil's profile photo: the teacher sees thumb, small and medium only
  let pupilsOwn: MediaRow; // a pupil's general photo: only the pupil (and admins) see it
  let foreign: MediaRow; // another school's photo
  let pending: string; // the teacher's upload that never arrived

  beforeAll(async () => {
    stack = await startTestStack();
    teacher = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    const photo = await makePhoto({ width: 64, height: 48 });
    [own, pupil, pupilsOwn, foreign] = (await seedReadyMedia(
      stack,
      [
        { tenant, purpose: 'profile', subjectId: 't-1', classroomId: null, uploadedBy: 't-1' },
        { tenant, purpose: 'profile', subjectId: 's-9', classroomId: 'c-1', uploadedBy: 's-9' },
        { tenant, purpose: 'general', subjectId: 's-9', classroomId: 'c-1', uploadedBy: 's-9' },
        { tenant: elsewhere, purpose: 'profile', subjectId: 't-1', classroomId: null, uploadedBy: 't-1' },
      ],
      photo,
    )) as [MediaRow, MediaRow, MediaRow, MediaRow];
    const ticket = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token: teacher,
      body: { purpose: 'profile', contentType: 'image/jpeg', size: 1000 },
    });
    pending = ticket.json.mediaId;
  });
  afterAll(() => stack?.close());

  const ask = (ids: unknown, variant?: string, token = teacher) =>
    stack.api<DownloadUrlsAnswer>('POST', '/v1/media/download-urls', { token, body: variant ? { ids, variant } : { ids } });

  it("answers every id in order: a URL where allowed, FORBIDDEN, NOT_FOUND (unknown, malformed, hidden or another school's) or NOT_READY", async () => {
    const unknown = newMediaId();
    const answer = await ask([own.id, pupil.id, pupilsOwn.id, foreign.id, unknown, 'not-a-uuid', pending, own.id], 'ml');
    expect(answer.status).toBe(200);
    const outcome = answer.json.items.map((item) => ('url' in item ? 'url' : item.error.code));
    expect(answer.json.items.map((item) => item.id)).toEqual([
      own.id,
      pupil.id,
      pupilsOwn.id,
      foreign.id,
      unknown,
      'not-a-uuid',
      pending,
      own.id,
    ]);
    expect(outcome).toEqual(['url', 'FORBIDDEN', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_FOUND', 'NOT_READY', 'url']);
  });

  it('gives the same answer per item as the single download would', async () => {
    const answer = await ask([own.id, pupil.id, pupilsOwn.id, foreign.id, pending], 'ml');
    for (const [i, id] of [own.id, pupil.id, pupilsOwn.id, foreign.id, pending].entries()) {
      const single = await stack.api<Problem | { url: string }>('GET', `/v1/media/${id}/download?variant=ml`, { token: teacher });
      const item = answer.json.items[i]!;
      if ('url' in item) expect(single.status, id).toBe(200);
      else expect((single.json as Problem).code, id).toBe(item.error.code);
    }
  });

  it("hands out URLs that work, for the variant asked (medium by default), with the purpose's lifetime", async () => {
    const answer = await ask([own.id, pupil.id]);
    const urls = answer.json.items.map((item) => ('url' in item ? item : null));
    expect(urls.every(Boolean)).toBe(true);
    for (const item of urls) {
      expect(new URL(item!.url).pathname).toMatch(/\/derivatives\/.+\/medium\.webp$/);
      const got = await fetch(item!.url);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('image/webp');
      const lifetime = new Date(item!.expiresAt).getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(0);
      expect(lifetime).toBeLessThanOrEqual(15 * 60_000);
    }
  });

  it('refuses a malformed batch as a whole: no ids, more than 100, an unknown variant, no token', async () => {
    expect((await ask([])).status).toBe(400);
    expect((await ask(Array.from({ length: 101 }, () => own.id))).json).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await ask([own.id], 'huge')).status).toBe(400);
    expect((await stack.api('POST', '/v1/media/download-urls', { body: { ids: [own.id] } })).status).toBe(401);
  });

  it('takes 100 ids at once', async () => {
    const answer = await ask(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? own.id : pupil.id)),
      'thumb',
    );
    expect(answer.status).toBe(200);
    expect(answer.json.items.filter((item) => 'url' in item)).toHaveLength(100);
  });

  it('stores derivatives with Cache-Control private, max-age=<purpose lifetime>, immutable; originals without', async () => {
    const head = (key: string) => stack.deps.storage.client.send(new HeadObjectCommand({ Bucket: stack.deps.storage.bucket, Key: key }));
    const thumb = own.variants.find((v) => v.name === 'thumb')!;
    expect((await head(thumb.key)).CacheControl).toBe('private, max-age=900, immutable');
    expect((await head(own.originalKey!)).CacheControl).toBeUndefined();
  });

  describe('with a CDN signer (as get-download has in AWS with media:cdn)', () => {
    const keys = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });

    it('signs derivatives for the CDN and keeps originals on S3 presigned URLs', async () => {
      stack.deps.cdn = new CdnUrls({ domain: 'media-cdn.school.example', keyPairId: 'K2JCJMDEHXQW5F', privateKey: keys.privateKey });
      try {
        const answer = await ask([own.id, pupil.id], 'thumb');
        for (const item of answer.json.items) {
          if (!('url' in item)) throw new Error(`no URL for ${item.id}: ${item.error.code}`);
          const url = new URL(item.url);
          expect(url.host).toBe('media-cdn.school.example');
          expect(url.pathname).toMatch(new RegExp(`^/derivatives/${tenant}/${item.id}/thumb\\.webp$`));
          const policy = JSON.stringify({
            Statement: [
              {
                Resource: item.url.split('?')[0],
                Condition: { DateLessThan: { 'AWS:EpochTime': Number(url.searchParams.get('Expires')) } },
              },
            ],
          });
          const signature = Buffer.from(
            url.searchParams.get('Signature')!.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'),
            'base64',
          );
          expect(verify('RSA-SHA256', Buffer.from(policy), keys.publicKey, signature)).toBe(true);
          expect(new Date(item.expiresAt).getTime()).toBe(Number(url.searchParams.get('Expires')) * 1000);
        }
        const original = await stack.api<{ url: string }>('GET', `/v1/media/${own.id}/download?variant=original`, { token: teacher });
        expect(new URL(original.json.url).searchParams.get('X-Amz-Signature')).toBeTruthy();
        expect(new URL(original.json.url).host).not.toBe('media-cdn.school.example');
      } finally {
        delete stack.deps.cdn;
      }
    });
  });
});
