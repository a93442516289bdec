import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaRecord } from '@media/core';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const exec = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const MiB = 1024 * 1024;
const PART = 5 * MiB;
const THRESHOLD = 20 * MiB;

/**
 * Uppy 6 (@uppy/aws-s3 6.x, Golden Retriever) in headless Chromium, configured with nothing but
 * `uppyS3Options` from `@media/client/uppy`, on a page served from another origin than the API:
 * a photo goes as the service's presigned POST, a video of about 24 MB in the parts the service
 * planned, a reload half-way resumes it with only the parts storage lacks, and refusals reach
 * Uppy's `upload-error` with the service's code and detail.
 */
describe('Uppy 6 with @media/client/uppy, from Chromium on another origin', () => {
  let stack: TestStack;
  let pageServer: Server;
  let pageOrigin: string;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  /** Every request the page sent to the S3 server: method and part number (if any). */
  const storageRequests: { method: string; partNumber: string | null }[] = [];
  /** Part numbers storage answered 200 for. */
  const partsStored: string[] = [];
  /** What the page said, for failure messages. */
  const pageLog: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (the CI script does)`);
    dir = await mkdtemp(join(tmpdir(), 'media-uppy6-'));
    const bundle = await build({
      entryPoints: [resolve('test/e2e/uppy/uppy6-page.ts')],
      bundle: true,
      format: 'iife',
      write: false,
      platform: 'browser',
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    // The page's own origin: localhost, while the API and the S3 server answer on 127.0.0.1.
    pageServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/page.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
      if (url.pathname === '/blank') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title>');
      const settings = JSON.stringify({
        apiUrl: stack.apiUrl,
        token: url.searchParams.get('token'),
        multipartThresholdBytes: THRESHOLD,
        done: [],
        errors: [],
        log: [],
        restored: false,
      });
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><meta charset=utf-8><title>Uppy 6</title><input type=file id=files multiple><script>window.uppyTest = ${settings}</script><script src=/page.js></script>`,
        );
    });
    await new Promise<void>((done) => pageServer.listen(0, '127.0.0.1', done));
    pageOrigin = `http://localhost:${(pageServer.address() as AddressInfo).port}`;
    stack = await startTestStack({
      allowedOrigins: [pageOrigin],
      env: { MEDIA_MULTIPART_PART_BYTES: String(PART), MEDIA_MULTIPART_THRESHOLD_BYTES: String(THRESHOLD) },
    });
    expect(new URL(stack.apiUrl).origin).not.toBe(pageOrigin);

    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => pageLog.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => pageLog.push(`error: ${error.message}`));
    page.on('requestfailed', (request) => pageLog.push(`failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`));
    page.on('request', (request) => {
      if (request.url().startsWith(stack.s3Endpoint) && request.method() !== 'OPTIONS') {
        storageRequests.push({ method: request.method(), partNumber: new URL(request.url()).searchParams.get('partNumber') });
      }
    });
    page.on('response', (response) => {
      const partNumber = new URL(response.url()).searchParams.get('partNumber');
      if (response.url().startsWith(stack.s3Endpoint) && partNumber && response.status() === 200) partsStored.push(partNumber);
    });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await stack?.close();
    await new Promise((done) => (pageServer ? pageServer.close(done) : done(undefined)));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const state = () => page.evaluate(() => window.uppyTest);
  const failure = async (error: Error) =>
    new Error(`${error.message}\n${JSON.stringify(await state().catch(() => null))}\n${pageLog.join('\n')}`);

  /** The page, with what Golden Retriever kept from an earlier test forgotten (unless resuming). */
  async function open(token: string, { fresh }: { fresh: boolean } = { fresh: true }) {
    if (fresh) {
      await page.goto(`${pageOrigin}/blank`);
      await page.evaluate(
        () =>
          new Promise<void>((done) => {
            localStorage.clear();
            const request = indexedDB.deleteDatabase('uppy-blobs');
            request.onsuccess = request.onerror = request.onblocked = () => done();
          }),
      );
    }
    await page.goto(`${pageOrigin}/?token=${encodeURIComponent(token)}`);
    await page.waitForSelector('body[data-ready=true]');
  }

  /** What Golden Retriever has in IndexedDB: file bytes, and files whose multipart upload it can resume. */
  const goldenRetrieverKept = () =>
    page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((done, fail) => {
        const request = indexedDB.open('uppy-blobs');
        request.onsuccess = () => done(request.result);
        request.onerror = () => fail(request.error);
      });
      const read = <T>(store: string, query: (s: IDBObjectStore) => IDBRequest<T>) =>
        new Promise<T | undefined>((done) => {
          if (!db.objectStoreNames.contains(store)) return done(undefined);
          const request = query(db.transaction([store]).objectStore(store));
          request.onsuccess = () => done(request.result);
          request.onerror = () => done(undefined);
        });
      const blobs = await read('files', (s) => s.count());
      const record = await read<{ metadata: string } | undefined>('metadata', (s) => s.get('media-e2e'));
      db.close();
      const files = record
        ? Object.values((JSON.parse(record.metadata) as { files?: Record<string, { s3Multipart?: unknown }> }).files ?? {})
        : [];
      return { blobs: blobs ?? 0, multipartUploads: files.filter((file) => file.s3Multipart).length };
    });

  async function waitFor(condition: () => boolean, timeout: number) {
    await page.waitForFunction(condition, undefined, { timeout, polling: 100 }).catch(async (error: Error) => {
      throw await failure(error);
    });
  }

  it('uploads a photo as the service presigned POST, sets meta.mediaId, and the photo ends ready', async () => {
    const token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: [] });
    const photo = join(dir, 'sports-day.jpg');
    await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 30, g: 140, b: 60 } } })
      .jpeg()
      .toFile(photo);
    storageRequests.length = 0;

    await open(token);
    await page.setInputFiles('#files', photo);
    await waitFor(() => window.uppyTest.done.length + window.uppyTest.errors.length >= 1, 60_000);

    const { done, errors } = await state();
    expect(errors).toEqual([]);
    expect(done).toHaveLength(1);
    expect(done[0]!.mediaId).toMatch(/^[0-9a-f-]{36}$/);
    expect(storageRequests, 'one POST straight to storage, no part').toEqual([{ method: 'POST', partNumber: null }]);
    const record: MediaRecord = await stack.waitForStatus(done[0]!.mediaId, token, ['ready', 'rejected'], 60_000);
    expect(record).toMatchObject({ status: 'ready', kind: 'image', width: 800, height: 600 });
  }, 120_000);

  it("reports refusals to upload-error with the service's code and detail: a text file, and a large file refused before any part", async () => {
    const token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: [] });
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'not a photo\n');
    // Large enough to go in parts: the service refuses its type when Uppy's pre-processor reserves it.
    const archive = join(dir, 'backup.zip');
    await writeFile(archive, Buffer.alloc(THRESHOLD + 1024));
    storageRequests.length = 0;

    await open(token);
    await page.setInputFiles('#files', [notes, archive]);
    await waitFor(() => window.uppyTest.errors.length >= 2, 60_000);

    const { done, errors } = await state();
    expect(done).toEqual([]);
    expect(errors.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'backup.zip', code: 'UNSUPPORTED_MEDIA_TYPE', detail: expect.stringContaining('application/zip') },
      { name: 'notes.txt', code: 'UNSUPPORTED_MEDIA_TYPE', detail: expect.stringContaining('text/plain') },
    ]);
    expect(storageRequests, 'nothing reached storage').toEqual([]);
  }, 120_000);

  it('sends a 24 MB video in the five parts the service planned, resumes after a reload with only the parts storage lacks, and the video ends ready', async () => {
    // Lossless noise: about 24 MB of valid H.264 (11 frames at 10 fps). Five parts of 5 MiB (the
    // smallest S3 takes) are enough: three stored before the reload, two after.
    const video = join(dir, 'class-trip.mp4');
    await exec('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '1280x720', '-r', '10', '-i', '/dev/urandom'],
      ...['-frames:v', '11', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', video],
    ]);
    const { size } = await stat(video);
    const partCount = Math.ceil(size / PART);
    expect(size, 'above the multipart threshold').toBeGreaterThan(THRESHOLD);
    expect(partCount).toBe(5);
    const token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: [] });
    const listed: { partNumber: number }[][] = [];
    const onList = async (response: import('playwright-core').Response) => {
      if (response.request().method() === 'GET' && /\/v1\/uploads\/[^/]+\/parts$/.test(response.url())) {
        listed.push(((await response.json()) as { parts: { partNumber: number }[] }).parts);
      }
    };
    page.on('response', onList);
    storageRequests.length = 0;
    partsStored.length = 0;

    // A slow network from the fourth part on: those parts wait until the reload cuts them.
    let holding = true;
    await page.route(
      (url) => url.href.startsWith(stack.s3Endpoint),
      async (route) => {
        const partNumber = Number(new URL(route.request().url()).searchParams.get('partNumber'));
        if (holding && partNumber >= 4) return;
        await route.continue();
      },
    );

    await open(token, { fresh: true });
    await page.setInputFiles('#files', video);
    // Reload once three parts are in storage and Golden Retriever has kept the file's upload.
    for (let waited = 0; ; waited += 250) {
      const kept = await goldenRetrieverKept();
      if (partsStored.length >= 3 && kept.multipartUploads === 1) break;
      if (waited > 120_000)
        throw await failure(
          new Error(`not ready to reload after 120 s: ${partsStored.length} parts stored, Golden Retriever kept ${JSON.stringify(kept)}`),
        );
      await new Promise((r) => setTimeout(r, 250));
    }
    expect((await state()).errors).toEqual([]);
    const sentBefore = storageRequests.filter((r) => r.method === 'PUT').map((r) => Number(r.partNumber));
    expect(
      sentBefore.filter((n) => n < 4),
      'the first parts, one after another, each once',
    ).toEqual([1, 2, 3]);
    const storedBefore = new Set(partsStored.map(Number));

    // The reload: every request in flight is cut; only what Golden Retriever stored survives.
    // Parts stay held until the old page is gone (a part it sent meanwhile would count as resent).
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    storageRequests.length = 0;
    holding = false;
    // Golden Retriever brings the file back without its bytes (a "ghost": it keeps only files up to
    // 10 MiB); the person chooses it again, and its upload goes on.
    await waitFor(() => window.uppyTest.restored, 60_000);
    expect((await goldenRetrieverKept()).blobs, 'the video itself was not kept in the browser').toBe(0);
    await page.setInputFiles('#files', video);
    await waitFor(() => window.uppyTest.done.length + window.uppyTest.errors.length >= 1, 180_000);
    page.off('response', onList);
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    const outcome = await state();
    expect(outcome.errors).toEqual([]);
    expect(outcome.restored, 'Golden Retriever restored the upload').toBe(true);
    expect(listed, 'Uppy asked once which parts storage holds').toHaveLength(1);
    const held = new Set(listed[0]!.map((part) => part.partNumber));
    for (const n of storedBefore) expect(held.has(n), `part ${n}, stored before the reload, is held`).toBe(true);
    const sentAfter = storageRequests.filter((r) => r.method === 'PUT').map((r) => Number(r.partNumber));
    const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !held.has(n));
    // Uppy retries a part whose request failed (the reload can cut one mid-flight): count parts, not requests.
    expect(
      [...new Set(sentAfter)].sort((a, b) => a - b),
      'after the reload, exactly the parts storage lacked were sent',
    ).toEqual(missing);
    expect(sentAfter.length).toBeLessThan(partCount);
    expect(
      storageRequests.filter((r) => r.method !== 'PUT'),
      'the parts are all that went to storage',
    ).toEqual([]);

    const [done] = outcome.done;
    expect(done!.key, 'Uppy knows the upload by its media id').toBe(done!.mediaId);
    const record: MediaRecord = await stack.waitForStatus(done!.mediaId, token, ['ready', 'rejected'], 120_000);
    expect(record).toMatchObject({ status: 'ready', kind: 'video', width: 1280, height: 720 });
  }, 420_000);

  it('gives a large upload up when Uppy cancels it: the service aborts it and the record expires', async () => {
    const token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: [] });
    // Its bytes are never checked: the upload stops long before processing.
    const video = join(dir, 'field-trip.mp4');
    await writeFile(video, Buffer.alloc(THRESHOLD + MiB));
    let holding = true;
    await page.route(
      (url) => url.href.startsWith(stack.s3Endpoint),
      async (route) => {
        if (holding && Number(new URL(route.request().url()).searchParams.get('partNumber')) >= 2) return;
        await route.continue();
      },
    );
    partsStored.length = 0;

    await open(token);
    await page.setInputFiles('#files', video);
    for (let waited = 0; partsStored.length < 1; waited += 100) {
      if (waited > 60_000) throw await failure(new Error('no part stored after 60 s'));
      await new Promise((r) => setTimeout(r, 100));
    }
    const mediaId = await page.evaluate(() => String(window.uppy.getFiles()[0]!.meta.mediaId));
    const aborted = page.waitForResponse(
      (response) => response.request().method() === 'DELETE' && response.url() === `${stack.apiUrl}/v1/uploads/${mediaId}`,
      { timeout: 60_000 },
    );
    await page.evaluate(() => window.uppy.cancelAll());
    expect((await aborted).status()).toBe(204);
    holding = false;
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    const { json: record } = await stack.api<MediaRecord>('GET', `/v1/media/${mediaId}`, { token });
    expect(record.status).toBe('expired');
    expect((await state()).errors, 'a cancel is not an error').toEqual([]);
  }, 120_000);
});
