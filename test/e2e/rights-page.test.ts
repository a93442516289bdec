import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runErasure } from '@media/service';
import { runExport } from '@media/service/processing';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { readyRows } from '../rights/support';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`rights page browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!hasChromium)('the rights page in headless Chromium', () => {
  let stack: TestStack;
  let context: BrowserContext;
  let page: Page;
  let workDir: string;
  const tenant = uniqueTenant();
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    workDir = await mkdtemp(join(tmpdir(), 'media-e2e-rights-'));
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await readyRows(stack, [
      { tenant, subjectId: 'child-1', purpose: 'profile', withObject: true },
      { tenant, subjectId: 'child-1', purpose: 'attendance', withObject: true, legalHold: true },
    ]);
    const admin = await stack.token({ role: 'admin', tenant, sub: 'admin-1', classrooms: [] });
    await stack.api('PUT', '/v1/subjects/child-1/consent', { token: admin, body: { recognition: true, training: false } });
    await page.goto(`${stack.apiUrl}/rights`);
    await page.fill('#token', admin);
    await page.fill('#subject', 'child-1');
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await stack?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** The background worker's part (the sweeper in AWS and in `npm start`), for the job the page started. */
  const runningJob = async (kind: 'erasure' | 'export') => {
    for (;;) {
      const job = await stack.deps.db.selectFrom('rightsJob').select('id').where('tenant', '=', tenant).where('kind', '=', kind).where('status', '=', 'running').executeTakeFirst();
      if (job) return job.id;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it("shows the person's consent", async () => {
    await page.click('#show');
    await page.waitForSelector('#consent:not([hidden])');
    expect(await page.textContent('#recognition')).toBe('consented');
    expect(await page.textContent('#training')).toBe('not consented');
    expect(await page.textContent('#consent-status')).toContain('by admin-1');
  });

  it('exports everything about the person and offers the ZIP file', async () => {
    await page.click('#export');
    await runExport(stack.deps, await runningJob('export'));
    await page.waitForSelector('#export-link:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#export-status')).toMatch(/^Export ready: 2 photo\(s\)/);
    const href = (await page.getAttribute('#export-link', 'href'))!;
    const zip = Buffer.from(await (await fetch(href)).arrayBuffer());
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('erases only once confirmed, and says what was kept under legal hold', async () => {
    await page.click('#erase');
    expect(await page.textContent('#erase-status')).toBe('Tick the box to confirm the erasure first.');
    await page.check('#confirm-erase');
    await page.click('#erase');
    await runErasure(stack.deps, await runningJob('erasure'));
    await page.waitForFunction(() => document.getElementById('erase-status')?.textContent?.startsWith('Erased'), undefined, { timeout: 30_000 });
    expect(await page.textContent('#erase-status')).toBe('Erased: 1 photo(s) deleted, 1 kept under legal hold; consent cleared.');
    await page.click('#show');
    await page.waitForFunction(() => document.getElementById('recognition')?.textContent === 'not consented');
    expect(consoleErrors).toEqual([]);
  });
});
