import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaRecord } from '@media/core';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

declare global {
  interface Window {
    /** Each thumbnail's steps, recorded in the page by the test. */
    thumbSteps?: Record<string, string[]>;
  }
}

const exec = promisify(execFile);
const MiB = 1024 * 1024;
// Below the 24 MB clip, so that the page sends it in parts as it would a phone's long video.
const MULTIPART_THRESHOLD = 20 * MiB;
const PART = 5 * MiB;

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOT = resolve('test-results', 'upload-page.png');

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`upload page browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

interface Row {
  name: string;
  state: string;
  stateText: string;
  detail: string;
  progress: number;
  progressMax: number;
  thumb: string | undefined;
  imgNaturalWidth: number;
  imgSrc: string;
}

describe.skipIf(!hasChromium)('the upload page in headless Chromium', () => {
  let stack: TestStack;
  let context: BrowserContext;
  let page: Page;
  let workDir: string;
  let rows: Row[];
  let thumbSteps: Record<string, string[]>;
  let rejectedBarColour: string;
  let readyBarColour: string;
  const consoleErrors: string[] = [];
  const failedLoads: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack({
      env: { MEDIA_MULTIPART_THRESHOLD_BYTES: String(MULTIPART_THRESHOLD), MEDIA_MULTIPART_PART_BYTES: String(PART) },
    });
    workDir = await mkdtemp(join(tmpdir(), 'media-e2e-'));
    const files = {
      'classroom.jpg': await makePhoto({ width: 1600, height: 1200 }),
      'portrait.png': await makePhoto({ width: 600, height: 900, format: 'png' }),
      'garden.webp': await makePhoto({ width: 1200, height: 800, format: 'webp' }),
      // A PNG under a .jpg name: the browser declares image/jpeg, the processor sees a PNG.
      'not-really.jpg': await makePhoto({ width: 300, height: 200, format: 'png' }),
    };
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(workDir, name), bytes);

    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1000, height: 1100 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && new URL(response.url()).origin === stack.apiUrl && !response.url().includes('/v1/')) {
        failedLoads.push(`${response.status()} ${response.url()}`);
      }
    });
    await page.goto(`${stack.apiUrl}/`);
    await page.waitForSelector('body[data-ready=true]');

    // A teacher of a school of its own, typed into the token box the way a person would paste one.
    const token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: ['c-1'] });
    await page.fill('#token', token);
    await page.selectOption('#purpose', 'general');
    // Remember each thumbnail's steps, to see the placeholder come before the image.
    await page.evaluate(() => {
      const steps: Record<string, string[]> = (window.thumbSteps = {});
      new MutationObserver((records) => {
        for (const r of records) {
          const li = r.target as HTMLElement;
          const name = li.querySelector('.name')?.textContent ?? '?';
          if (li.dataset.thumb) (steps[name] ??= []).push(li.dataset.thumb);
        }
      }).observe(document.getElementById('uploads')!, { subtree: true, attributeFilter: ['data-thumb'] });
    });

    await page.setInputFiles(
      '#files',
      Object.keys(files).map((name) => join(workDir, name)),
    );
    await page.waitForFunction(
      () => {
        const items = [...document.querySelectorAll<HTMLElement>('li.upload')];
        return (
          items.length === 4 &&
          items.every((li) => li.dataset.state === 'rejected' || (li.dataset.state === 'ready' && li.dataset.thumb === 'loaded'))
        );
      },
      undefined,
      { timeout: 90_000, polling: 100 },
    );
    rows = await page.$$eval('li.upload', (items) =>
      items.map((li) => {
        const img = li.querySelector('img')!;
        const bar = li.querySelector('progress')!;
        return {
          name: li.querySelector('.name')!.textContent!,
          state: (li as HTMLElement).dataset.state!,
          stateText: li.querySelector('.state')!.textContent!,
          detail: li.querySelector('.detail')!.textContent!,
          progress: bar.value,
          progressMax: bar.max,
          thumb: (li as HTMLElement).dataset.thumb,
          imgNaturalWidth: img.naturalWidth,
          imgSrc: img.src,
        };
      }),
    );
    thumbSteps = await page.evaluate(() => window.thumbSteps ?? {});
    const barColour = (state: string) => page.$eval(`li.upload[data-state=${state}] progress`, (bar) => getComputedStyle(bar).accentColor);
    [rejectedBarColour, readyBarColour] = [await barColour('rejected'), await barColour('ready')];
    await mkdir('test-results', { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`upload page screenshot: ${SCREENSHOT}`);
  }, 150_000);

  afterAll(async () => {
    await context?.close();
    await stack?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('shows every file with its progress bar at 100 %', () => {
    expect(rows.map((r) => r.name)).toEqual(['classroom.jpg', 'portrait.png', 'garden.webp', 'not-really.jpg']);
    for (const row of rows) expect({ name: row.name, progress: row.progress }).toEqual({ name: row.name, progress: row.progressMax });
    expect(rows[0]!.progressMax).toBe(100);
  });

  it('loads the three real thumbnails, each after its thumbhash placeholder', () => {
    const ready = rows.filter((r) => r.state === 'ready');
    expect(ready.map((r) => r.name)).toEqual(['classroom.jpg', 'portrait.png', 'garden.webp']);
    for (const row of ready) {
      expect(row.imgNaturalWidth, `${row.name} thumbnail`).toBeGreaterThan(0);
      expect(row.imgSrc).toContain('/thumb.webp');
      expect(row.stateText).toMatch(/^ready — \d+×\d+$/);
      expect(thumbSteps[row.name]).toEqual(['placeholder', 'loaded']);
    }
  });

  it('says in words why the PNG named .jpg was rejected', () => {
    const rejected = rows.find((r) => r.name === 'not-really.jpg')!;
    expect(rejected.state).toBe('rejected');
    expect(rejected.stateText).toBe('rejected: The file’s content is not the type its name says.');
    expect(rejected.detail).toBe('The file was declared as image/jpeg but its content is image/png.');
  });

  it('colours a rejected row’s bar as a failure, not as the progress of a success', () => {
    expect(rejectedBarColour).toBe('rgb(165, 14, 14)');
    expect(readyBarColour).toBe('rgb(11, 87, 208)');
  });

  it('loads the page and its icon without a 404 or an error in the console', () => {
    expect(failedLoads).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('announces the outcome in the aria-live status region', async () => {
    expect(await page.getAttribute('#status', 'aria-live')).toBe('polite');
    expect(await page.textContent('#status')).toBe('Done: 3 ready, 1 rejected, 0 failed.');
  });

  it('labels every control and reaches them with the keyboard in order', async () => {
    const unlabelled = await page.$$eval('input, select, textarea', (els) =>
      els.filter((el) => !(el as HTMLInputElement).labels?.length && !(el as HTMLElement).closest('[hidden]')).map((el) => el.id),
    );
    expect(unlabelled).toEqual([]);
    await page.focus('#token');
    const order: string[] = [];
    for (let i = 0; i < 2; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement?.id ?? ''));
    }
    expect(order).toEqual(['purpose', 'subject']);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('files');
  });

  it('takes files dropped on the drop zone', async () => {
    const photo = (await makePhoto({ width: 320, height: 240 })).toString('base64');
    await page.evaluate((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
      document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, photo);
    const dropped = page.locator('li.upload', { hasText: 'dropped.jpg' });
    await page.waitForFunction(
      () => [...document.querySelectorAll<HTMLElement>('li.upload')].at(-1)?.dataset.thumb === 'loaded',
      undefined,
      { timeout: 30_000 },
    );
    expect(await dropped.getAttribute('data-state')).toBe('ready');
    expect(await dropped.locator('progress').evaluate((bar: HTMLProgressElement) => bar.value)).toBe(100);
  });

  it('says photos and videos, and its picker accepts MP4, MOV and WebM besides images', async () => {
    expect(await page.title()).toBe('Upload photos and videos — media service');
    expect(await page.textContent('h1')).toBe('Upload photos and videos');
    const accept = (await page.getAttribute('#files', 'accept'))!.split(',');
    expect(accept).toEqual(expect.arrayContaining(['image/*', 'video/mp4', 'video/quicktime', 'video/webm', '.heic']));
  });

  it('files a photo about the pupil named in the subject field', async () => {
    const admin = await stack.token({ role: 'admin', tenant: uniqueTenant(), sub: 'a-1' });
    await page.fill('#token', admin);
    await page.selectOption('#purpose', 'profile');
    await page.fill('#subject', 'p-7');
    await writeFile(join(workDir, 'lea.jpg'), await makePhoto({ width: 800, height: 1000 }));
    await page.setInputFiles('#files', join(workDir, 'lea.jpg'));
    const row = page.locator('li.upload', { hasText: 'lea.jpg' });
    await row.and(page.locator('[data-state=ready], [data-state=rejected], [data-state=failed]')).waitFor({ timeout: 60_000 });
    expect(await row.locator('.state').textContent()).toMatch(/^ready — 800×1000$/);
    const { json } = await stack.api<{ items: MediaRecord[] }>('GET', '/v1/media?subjectId=p-7', { token: admin });
    expect(json.items.map((r) => ({ filename: r.filename, subjectIds: r.subjectIds, uploadedBy: r.uploadedBy }))).toEqual([
      { filename: 'lea.jpg', subjectIds: ['p-7'], uploadedBy: 'a-1' },
    ]);
    await page.fill('#subject', '');
  });

  it('starts a file again from its first byte when the upload the page remembered for it is gone', async () => {
    const photo = join(workDir, 'gone.jpg');
    await writeFile(photo, await makePhoto({ width: 640, height: 480 }));
    const { size } = await stat(photo);
    // As a reload leaves it, for an upload the sweeper has since given up (an id the service does not know).
    await page.evaluate((entry) => localStorage.setItem('media-service.unfinished-uploads', JSON.stringify([entry])), {
      mediaId: '01890a5d-ac96-774b-bcce-b302099a8057',
      name: 'gone.jpg',
      size,
    });
    await page.fill('#token', await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-2', classrooms: [] }));
    await page.selectOption('#purpose', 'general');
    await page.setInputFiles('#files', photo);
    const row = page.locator('li.upload', { hasText: 'gone.jpg' });
    await row.and(page.locator('[data-state=ready], [data-state=rejected], [data-state=failed]')).waitFor({ timeout: 60_000 });
    expect(await row.locator('.state').textContent()).toBe('ready — 640×480');
    expect(await page.evaluate(() => localStorage.getItem('media-service.unfinished-uploads'))).toBe('[]');
  });

  it('sends a 24 MB video in five parts with byte progress, goes on after a reload with only the parts storage lacks, and shows its duration', async () => {
    // Lossless noise: about 24 MB of valid H.264 (11 frames at 10 fps, 1.1 s), made in about a second.
    // Five parts of 5 MiB (the smallest S3 takes) are enough: three stored before the reload, two after.
    const video = join(workDir, 'class-trip.mp4');
    await exec('ffmpeg', [
      ...['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', '1280x720', '-r', '10', '-i', '/dev/urandom'],
      ...['-frames:v', '11', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', video],
    ]);
    const { size } = await stat(video);
    const partCount = Math.ceil(size / PART);
    expect(size, 'above the multipart threshold').toBeGreaterThan(MULTIPART_THRESHOLD);
    expect(partCount).toBe(5);
    const teacher = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-9', classrooms: [] });

    const sent: number[] = [];
    const stored: number[] = [];
    const listed: { partNumber: number }[][] = [];
    const onRequest = (request: import('playwright-core').Request) => {
      if (request.method() === 'PUT' && request.url().startsWith(stack.s3Endpoint))
        sent.push(Number(new URL(request.url()).searchParams.get('partNumber')));
    };
    const onResponse = async (response: import('playwright-core').Response) => {
      const method = response.request().method();
      if (method === 'PUT' && response.url().startsWith(stack.s3Endpoint) && response.ok()) {
        stored.push(Number(new URL(response.url()).searchParams.get('partNumber')));
      }
      if (method === 'GET' && /\/v1\/uploads\/[^/]+\/parts$/.test(response.url())) listed.push((await response.json()).parts);
    };
    page.on('request', onRequest);
    page.on('response', onResponse);
    // A slow network from the fourth part on: those parts wait until the reload cuts them.
    let holding = true;
    await page.route(
      (url) => url.href.startsWith(stack.s3Endpoint),
      async (route) => {
        if (holding && Number(new URL(route.request().url()).searchParams.get('partNumber')) >= 4) return;
        await route.continue();
      },
    );

    await page.fill('#token', teacher);
    await page.selectOption('#purpose', 'general');
    await page.setInputFiles('#files', video);
    const row = () => page.locator('li.upload', { hasText: 'class-trip.mp4' });
    await page.waitForFunction(
      () => {
        const li = [...document.querySelectorAll<HTMLElement>('li.upload')].find((l) => l.textContent?.includes('class-trip.mp4'));
        return li?.querySelector('.detail')?.textContent?.startsWith('15.7 of');
      },
      undefined,
      { timeout: 120_000 },
    );
    const progressBefore = await row().locator('.detail').textContent();
    expect(progressBefore).toBe(`15.7 of ${(size / 1e6).toFixed(1)} MB sent`);
    expect(await page.isVisible('#unfinished')).toBe(true);
    expect(stored.sort((a, b) => a - b)).toEqual([1, 2, 3]);

    // The reload: every request in flight is cut; the page remembers the upload, not the file.
    // Parts stay held until the old page is gone: released before, a part the old page sends in
    // the meantime would reach storage and count as sent after the reload.
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    holding = false;
    sent.length = 0;
    expect(await page.textContent('#unfinished-list')).toBe(`class-trip.mp4 (${(size / 1e6).toFixed(1)} MB)`);
    await page.fill('#token', teacher);
    await page.selectOption('#purpose', 'general');
    await page.setInputFiles('#files', video);
    await row().and(page.locator('[data-state=ready], [data-state=rejected], [data-state=failed]')).waitFor({ timeout: 240_000 });
    page.off('request', onRequest);
    page.off('response', onResponse);
    await page.unrouteAll({ behavior: 'ignoreErrors' });

    expect(await row().locator('.state').textContent()).toBe('ready — video, 1280×720, 1.1 s');
    expect(await row().getAttribute('data-resumed')).toBe('true');
    expect(listed, 'the page asked once which parts storage holds').toHaveLength(1);
    const held = new Set(listed[0]!.map((part) => part.partNumber));
    for (const n of [1, 2, 3]) expect(held.has(n), `part ${n}, stored before the reload, is held`).toBe(true);
    const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !held.has(n));
    expect(
      [...new Set(sent)].sort((a, b) => a - b),
      'after the reload, exactly the parts storage lacked were sent',
    ).toEqual(missing);
    expect(await page.isVisible('#unfinished'), 'a finished upload is forgotten').toBe(false);
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll<HTMLElement>('li.upload')].find((l) => l.textContent?.includes('class-trip.mp4'))?.dataset.thumb ===
        'loaded',
      undefined,
      { timeout: 30_000 },
    );
  }, 420_000);

  it('asks for a classroom only for attendance photos', async () => {
    expect(await page.isVisible('#classroom')).toBe(false);
    await page.selectOption('#purpose', 'attendance');
    expect(await page.isVisible('#classroom')).toBe(true);
    expect(await page.getAttribute('label[for=classroom]', 'for')).toBe('classroom');
  });
});
