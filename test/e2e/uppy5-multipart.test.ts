import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaRecord } from '@media/core';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

declare global {
  interface Window {
    /** The Uppy 5 page's state (test/e2e/uppy/uppy5-page.js). */
    mediaTest: { token: string; partSize: number; parts: number; listed: number; done?: { mediaId: string }; error?: string };
  }
}

const exec = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
const MiB = 1024 * 1024;
const PART = 5 * MiB;

/**
 * A real client, unchanged: Uppy 5's S3 plugin (@uppy/aws-s3 5.x) in multipart mode in headless Chromium, configured
 * only with functions that call the service's routes, sends a video of more than 50 MB straight to
 * the local S3 server, is interrupted by a page reload half-way, resumes from the parts storage
 * lists, and the video ends ready.
 */
describe('Uppy 5 multipart upload from Chromium', () => {
  let stack: TestStack;
  let context: BrowserContext;
  let page: Page;
  let dir: string;
  let video: string;
  let script: string;
  const partPuts: string[] = [];
  /** What the page said, for the failure message. */
  const pageLog: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (the CI script does)`);
    stack = await startTestStack({ env: { MEDIA_MULTIPART_PART_BYTES: String(PART) } });
    dir = await mkdtemp(join(tmpdir(), 'media-uppy-'));
    // A second of noise, losslessly coded: about 55 MB of valid H.264 in eleven or more parts.
    video = join(dir, 'class-trip.mp4');
    await exec('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'yuv420p',
      '-s',
      '1280x720',
      '-r',
      '25',
      '-i',
      '/dev/urandom',
      '-t',
      '1',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-qp',
      '0',
      video,
    ]);
    // Uppy 5 as installed beside Uppy 6: its plugin's own imports of '@uppy/core' get the 5.x copy.
    const bundle = await build({
      entryPoints: [resolve('test/e2e/uppy/uppy5-page.js')],
      alias: { '@uppy/core': '@uppy/core-v5' },
      bundle: true,
      format: 'iife',
      write: false,
      platform: 'browser',
      logLevel: 'silent',
    });
    script = bundle.outputFiles[0]!.text;

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
      if (request.method() === 'PUT' && request.url().startsWith(stack.s3Endpoint))
        partPuts.push(new URL(request.url()).searchParams.get('partNumber')!);
    });
  }, 120_000);
  afterAll(async () => {
    await context?.close();
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function open(token: string) {
    // The page lives on the API's origin (its calls are same-origin; the parts go to S3 by CORS): a
    // document the local server really serves there, its content replaced by the test's.
    await page.goto(`${stack.apiUrl}/health`);
    await page.setContent('<!doctype html><meta charset=utf-8><input type=file id=file accept="video/*">');
    await page.evaluate(
      ({ token, partSize }) => {
        window.mediaTest = { token, partSize, parts: 0, listed: 0 };
      },
      { token, partSize: PART },
    );
    await page.addScriptTag({ content: script });
    await page.waitForSelector('body[data-ready=true]');
    await page.setInputFiles('#file', video);
  }

  it('uploads a video of more than 50 MB in parts, survives a reload half-way by resuming, and the video ends ready', async () => {
    const { size } = await stat(video);
    expect(size).toBeGreaterThan(50 * 1000 * 1000);
    const partCount = Math.ceil(size / PART);
    const token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: [] });

    await open(token);
    await page
      .waitForFunction(() => window.mediaTest.parts >= 3 || window.mediaTest.error, undefined, { timeout: 60_000, polling: 50 })
      .catch((error: Error) => {
        throw new Error(`${error.message}\n${pageLog.join('\n')}`);
      });
    expect((await page.evaluate(() => window.mediaTest)).error, pageLog.join('\n')).toBeUndefined();
    // The reload: every request in flight is cut, all page state but localStorage is gone.
    await page.reload();
    const before = new Set(partPuts);
    partPuts.length = 0;

    await open(token);
    await page.waitForFunction(() => window.mediaTest.done ?? window.mediaTest.error, undefined, { timeout: 120_000, polling: 100 });
    const outcome = await page.evaluate(() => window.mediaTest);
    expect(outcome.error).toBeUndefined();
    expect(outcome.listed, 'Uppy asked the service which parts storage holds').toBe(1);
    expect(before.size).toBeGreaterThanOrEqual(3);
    expect(partPuts.length, 'only the parts storage lacked were sent again').toBeLessThan(partCount);

    const record: MediaRecord = await stack.waitForStatus(outcome.done!.mediaId, token, ['ready', 'rejected'], 120_000);
    expect(record).toMatchObject({ status: 'ready', kind: 'video', width: 1280, height: 720 });
    expect(record.variants.map((v) => v.name)).toEqual(['original', 'thumb', 'small', 'medium', 'large']);
  }, 240_000);
});
