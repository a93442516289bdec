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
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
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
    context = await chromium.launchPersistentContext(join(workDir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
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

  /**
   * The worker's part (the sweeper function, fed by the rights-jobs queue in AWS and in `npm start`),
   * done here by hand so the page's queued and running states can be seen: this stack leaves the
   * queue unfed.
   */
  const queuedJob = async (kind: 'erasure' | 'export') => {
    for (;;) {
      const job = await stack.deps.db
        .selectFrom('rightsJob')
        .select('id')
        .where('tenant', '=', tenant)
        .where('kind', '=', kind)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (job) return job.id;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const pageSays = (id: string, text: string) =>
    page.waitForFunction(([id, text]) => document.getElementById(id!)?.textContent?.startsWith(text!), [id, text], { timeout: 30_000 });

  it("shows the person's consent as two boxes", async () => {
    await page.click('#show');
    await page.waitForSelector('#consent:not([hidden])');
    expect(await page.isChecked('#recognition')).toBe(true);
    expect(await page.isChecked('#training')).toBe(false);
    expect(await page.textContent('#consent-status')).toContain('by admin-1');
  });

  it('records a consent: boxes ticked or not, then Save', async () => {
    await page.uncheck('#recognition');
    await page.check('#training');
    await page.click('#save-consent');
    await pageSays('consent-status', 'Saved');
    expect(await page.textContent('#consent-status')).toBe('Saved: no recognition, training allowed (by admin-1).');
    const admin = await stack.token({ role: 'admin', tenant, sub: 'admin-2', classrooms: [] });
    const recorded = await stack.api<{ recognition: boolean; training: boolean }>('GET', '/v1/subjects/child-1/consent', { token: admin });
    expect(recorded.json).toMatchObject({ recognition: false, training: true });
  });

  it('exports everything about the person, showing the job queued then done, and offers the ZIP file', async () => {
    await page.click('#export');
    await pageSays('export-steps', 'queued');
    await runExport(stack.deps, await queuedJob('export'));
    await page.waitForSelector('#export-link:not([hidden])', { timeout: 30_000 });
    expect(await page.textContent('#export-status')).toMatch(/^Export ready: 2 photo\(s\)/);
    // An export is written in one go: the page may or may not catch it running.
    expect(await page.textContent('#export-steps')).toMatch(/^queued → (running → )?done$/);
    const href = (await page.getAttribute('#export-link', 'href'))!;
    const zip = Buffer.from(await (await fetch(href)).arrayBuffer());
    expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
  });

  it('erases only once confirmed, shows queued → running → done with counts, and refreshes the consent shown', async () => {
    await page.click('#erase');
    expect(await page.textContent('#erase-status')).toBe('Tick the box to confirm the erasure first.');
    await page.check('#confirm-erase');
    await page.click('#erase');
    await pageSays('erase-steps', 'queued');
    const job = await queuedJob('erasure');
    // One item, then the worker pauses: the page shows the counts so far.
    await runErasure(stack.deps, job, { batch: 1, maxBatches: 1 });
    await pageSays('erase-status', 'Erasing: 1 of 1 found so far');
    await runErasure(stack.deps, job);
    await pageSays('erase-status', 'Erased');
    expect(await page.textContent('#erase-status')).toBe('Erased: 1 photo(s) deleted, 1 kept under legal hold; consent cleared.');
    expect(await page.textContent('#erase-steps')).toBe('queued → running → done');
    // The consent the page shows is the one after the erasure, without asking again.
    await pageSays('consent-status', 'Consent cleared by the erasure');
    expect(await page.isChecked('#recognition')).toBe(false);
    expect(await page.isChecked('#training')).toBe(false);
    expect(consoleErrors).toEqual([]);
  });
});
