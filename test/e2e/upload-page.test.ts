import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

declare global {
  interface Window {
    /** Each thumbnail's steps, recorded in the page by the test. */
    thumbSteps?: Record<string, string[]>;
  }
}

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
    stack = await startTestStack();
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
    expect(order).toEqual(['purpose', 'files']);
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

  it('asks for a classroom only for attendance photos', async () => {
    expect(await page.isVisible('#classroom')).toBe(false);
    await page.selectOption('#purpose', 'attendance');
    expect(await page.isVisible('#classroom')).toBe(true);
    expect(await page.getAttribute('label[for=classroom]', 'for')).toBe('classroom');
  });
});
