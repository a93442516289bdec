import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMediaClient,
  isMediaApiError,
  MediaApiError,
  MediaRejectedError,
  type MediaClient,
  type UploadProgress,
} from '@media/client';
import { sha256OfFile, uploadFile } from '@media/client/node';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Runs a promise that must fail and hands back what it failed with (the tests assert its class). */
async function failureOf<E extends Error = MediaApiError>(promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (error) {
    return error as E;
  }
  throw new Error('expected a failure, got success');
}

describe('@media/client against the local stack', () => {
  let stack: TestStack;
  let tenant: string;
  let teacher: MediaClient;
  let admin: MediaClient;
  let photo: Buffer;
  let workDir: string;

  beforeAll(async () => {
    stack = await startTestStack();
    tenant = uniqueTenant();
    const teacherToken = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    teacher = createMediaClient({ baseUrl: stack.apiUrl, token: teacherToken });
    const adminToken = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
    admin = createMediaClient({ baseUrl: `${stack.apiUrl}/`, getToken: async () => adminToken });
    photo = await makePhoto({ width: 1600, height: 1200, quality: 92 });
    workDir = await mkdtemp(join(tmpdir(), 'media-client-'));
  });

  afterAll(async () => {
    await stack?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('uploads a Buffer straight to storage, reporting byte progress in steps up to the whole file', async () => {
    const seen: UploadProgress[] = [];
    const uploaded = await teacher.upload(
      photo,
      { purpose: 'general', contentType: 'image/jpeg', filename: 'class.jpg' },
      { onProgress: (p) => seen.push(p) },
    );
    expect(uploaded).toMatchObject({ size: photo.length, contentType: 'image/jpeg' });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen[0]!.loaded).toBe(0);
    expect(seen.at(-1)).toEqual({ loaded: photo.length, total: photo.length, fraction: 1 });
    const loaded = seen.map((p) => p.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));

    const record = await teacher.waitUntilReady(uploaded.mediaId, { timeoutMs: 30_000 });
    expect(record).toMatchObject({ status: 'ready', width: 1600, height: 1200, filename: 'class.jpg', sha256: sha256(photo) });
  });

  it('uploads a Blob and a Node file stream, taking type and name from them', async () => {
    const blob = await teacher.upload(
      new Blob([new Uint8Array(await makePhoto({ width: 300, height: 200, format: 'png' }))], { type: 'image/png' }),
      { purpose: 'general' },
    );
    expect(blob.contentType).toBe('image/png');
    const path = join(workDir, 'from-disk.webp');
    await writeFile(path, await makePhoto({ width: 400, height: 300, format: 'webp' }));
    const fromDisk = await uploadFile(teacher, path, { purpose: 'profile' });
    const record = await teacher.waitUntilReady(fromDisk.mediaId);
    expect(record).toMatchObject({
      status: 'ready',
      contentType: 'image/webp',
      filename: 'from-disk.webp',
      sha256: await sha256OfFile(path),
    });
    expect((await teacher.waitUntilReady(blob.mediaId)).status).toBe('ready');
  });

  it('retries a Blob upload once storage answers InternalError, as S3 asks', async () => {
    let refusals = 0;
    const flaky = createMediaClient({
      baseUrl: stack.apiUrl,
      token: await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] }),
      fetch: async (input, init) => {
        if (String(input).startsWith(stack.s3Endpoint) && init?.method === 'POST' && refusals++ === 0) {
          return new Response('<Error><Code>InternalError</Code><Message>try again</Message></Error>', { status: 500 });
        }
        return fetch(input, init);
      },
    });
    const bytes = await makePhoto({ width: 320, height: 240 });
    const { mediaId } = await flaky.upload(new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), { purpose: 'general' });
    expect(refusals).toBe(2);
    expect((await flaky.waitUntilReady(mediaId)).sha256).toBe(sha256(bytes));
  });

  it('uploads a stream of unknown length by reading it first', async () => {
    const bytes = await makePhoto({ width: 200, height: 200 });
    const stream = Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]);
    const { mediaId, size } = await teacher.upload(stream, { purpose: 'general', contentType: 'image/jpeg' });
    expect(size).toBe(bytes.length);
    expect((await teacher.waitUntilReady(mediaId)).sha256).toBe(sha256(bytes));
  });

  it('throws MediaRejectedError with the rejection code when the bytes are refused', async () => {
    const png = await makePhoto({ width: 300, height: 200, format: 'png' });
    const { mediaId } = await teacher.upload(png, { purpose: 'general', contentType: 'image/jpeg', filename: 'renamed.jpg' });
    const error = await failureOf<MediaRejectedError>(teacher.waitUntilReady(mediaId));
    expect(error).toBeInstanceOf(MediaRejectedError);
    expect(error).toMatchObject({ code: 'TYPE_MISMATCH', detail: 'The file was declared as image/jpeg but its content is image/png.' });
    expect(error.record.status).toBe('rejected');
  });

  it('turns problem+json into a MediaApiError with the stable code, status and detail', async () => {
    const unsupported = await failureOf(teacher.upload(photo, { purpose: 'general', contentType: 'image/svg+xml' }));
    expect(unsupported).toBeInstanceOf(MediaApiError);
    expect(unsupported).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 });
    expect(unsupported.detail).toContain('image/svg+xml');

    const forbidden = await failureOf(teacher.upload(photo, { purpose: 'training', contentType: 'image/jpeg' }));
    expect(isMediaApiError(forbidden, 'FORBIDDEN')).toBe(true);

    const missing = await failureOf(teacher.get('0196b2a4-7c1e-7d3a-9f00-123456789abc'));
    expect(missing).toMatchObject({ code: 'NOT_FOUND', status: 404 });

    const invalid = await failureOf(teacher.requestUpload({ purpose: 'general', contentType: 'image/jpeg', size: -1 }));
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(invalid.issues?.[0]?.path).toBe('body.size');

    const stranger = createMediaClient({ baseUrl: stack.apiUrl, token: 'not-a-jwt' });
    expect(await failureOf(stranger.usage())).toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
  });

  it('answers NOT_READY for a download of an upload whose bytes never came', async () => {
    const ticket = await teacher.requestUpload({ purpose: 'general', contentType: 'image/jpeg', size: 1000 });
    expect(ticket.upload.fields['Content-Type']).toBe('image/jpeg');
    expect(await failureOf(teacher.downloadUrl(ticket.mediaId, 'thumb'))).toMatchObject({ code: 'NOT_READY', status: 409 });
    const batch = await teacher.requestUploads([
      { purpose: 'general', contentType: 'image/png', size: 10 },
      { purpose: 'profile', contentType: 'image/webp', size: 10 },
    ]);
    expect(batch).toHaveLength(2);
  });

  it('lists page by page until there is no next cursor', async () => {
    const uploads = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) =>
        teacher.upload(await makePhoto({ width: 64 + i, height: 64 }), {
          purpose: 'general',
          contentType: 'image/jpeg',
          classroomId: undefined,
          filename: `page-${i}.jpg`,
        }),
      ),
    );
    await Promise.all(uploads.map((u) => teacher.waitUntilReady(u.mediaId)));
    const pages: number[] = [];
    const names: string[] = [];
    for await (const page of admin.list({ purpose: 'general', status: 'ready', limit: 2 })) {
      pages.push(page.items.length);
      names.push(...page.items.map((item) => item.filename ?? ''));
    }
    expect(pages.slice(0, 3)).toEqual([2, 2, 2]);
    expect(names.filter((n) => n.startsWith('page-')).sort()).toEqual([
      'page-0.jpg',
      'page-1.jpg',
      'page-2.jpg',
      'page-3.jpg',
      'page-4.jpg',
    ]);
  });

  it('finds an upload by its sha256', async () => {
    const pages = [];
    for await (const page of teacher.list({ sha256: sha256(photo), purpose: 'general' })) pages.push(page);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.items.map((i) => i.filename)).toEqual(['class.jpg']);
  });

  it('hands out a download URL that serves the variant', async () => {
    const { mediaId } = await teacher.upload(photo, { purpose: 'general', contentType: 'image/jpeg' });
    await teacher.waitUntilReady(mediaId);
    const { url, expiresAt } = await teacher.downloadUrl(mediaId, 'thumb');
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
  });

  it("hands out a gallery's URLs in one call, in the order asked, each item answered on its own", async () => {
    const { mediaId } = await teacher.upload(photo, { purpose: 'general', contentType: 'image/jpeg' });
    await teacher.waitUntilReady(mediaId);
    const unknown = '01a22ad3-0000-7000-8000-000000000000';
    // 150 ids: two requests of the batch route (100 at most each), one answer.
    const ids = [unknown, ...Array.from({ length: 148 }, () => mediaId), mediaId];
    const items = await teacher.downloadUrls(ids, 'thumb');
    expect(items.map((item) => item.id)).toEqual(ids);
    expect(items[0]).toEqual({ id: unknown, error: { code: 'NOT_FOUND' } });
    const last = items.at(-1)!;
    if (!('url' in last)) throw new Error(`expected a URL, got ${JSON.stringify(last)}`);
    expect(Date.parse(last.expiresAt)).toBeGreaterThan(Date.now());
    const res = await fetch(last.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
  });

  it('holds, refuses to delete under hold, releases and deletes', async () => {
    const { mediaId } = await teacher.upload(photo, { purpose: 'general', contentType: 'image/jpeg' });
    await teacher.waitUntilReady(mediaId);
    expect((await admin.setLegalHold(mediaId, true)).legalHold).toBe(true);
    expect(await failureOf(admin.delete(mediaId))).toMatchObject({ code: 'LEGAL_HOLD', status: 423 });
    await admin.setLegalHold(mediaId, false);
    await expect(admin.delete(mediaId)).resolves.toBeUndefined();
    expect(await failureOf(admin.get(mediaId))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('reads usage grouped by purpose', async () => {
    const rows = await admin.usage('purpose');
    const general = rows.find((r) => r.key === 'general');
    expect(general?.count).toBeGreaterThan(0);
    expect(general?.bytes).toBeGreaterThan(0);
  });

  it('gives up waiting with a TimeoutError, and stops an upload when its signal aborts', async () => {
    const ticket = await teacher.requestUpload({ purpose: 'general', contentType: 'image/jpeg', size: 1000 });
    const timeout = await failureOf<DOMException>(teacher.waitUntilReady(ticket.mediaId, { timeoutMs: 300 }));
    expect(timeout.name).toBe('TimeoutError');

    const controller = new AbortController();
    controller.abort(new DOMException('changed my mind', 'AbortError'));
    const aborted = await failureOf<DOMException>(
      teacher.upload(photo, { purpose: 'general', contentType: 'image/jpeg' }, { signal: controller.signal }),
    );
    expect(aborted.name).toBe('AbortError');
  });

  it('says UNEXPECTED_RESPONSE when something other than the API answers', async () => {
    const proxy = createMediaClient({
      baseUrl: 'https://media.example',
      token: 't',
      fetch: async () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    });
    expect(await failureOf(proxy.get('x'))).toMatchObject({ code: 'UNEXPECTED_RESPONSE', status: 502 });
  });

  it('serves at GET /openapi.json the document committed in docs/', async () => {
    const served = await fetch(`${stack.apiUrl}/openapi.json`).then((r) => r.json());
    const committed = JSON.parse(await readFile(new URL('../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(served).toEqual(committed);
  });
});

describe('the browser build of @media/client', () => {
  it('bundles for the browser without any Node module', async () => {
    const result = await build({
      entryPoints: [new URL('../../packages/client/src/index.ts', import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => path.startsWith('node:') || !path.startsWith('packages/client/'))).toEqual([]);
    expect(result.outputFiles[0]!.text).not.toMatch(/from\s*["']node:/);
  });
});
