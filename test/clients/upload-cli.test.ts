import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListAnswer } from '@media/core';
import { makePhoto } from '../fixtures/photos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const repoRoot = new URL('../..', import.meta.url).pathname;
const PHOTOS = 30;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run upload -- <dir> …` without npm in between: the same entry point, on this Node. */
function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'packages/client/src/bin/upload.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The count in the summary table's row for an outcome, e.g. `ready   99   1.2 MB`. */
const countOf = (summary: string, label: string) => {
  const row = summary.split('\n').find((line) => line.startsWith(label));
  return Number(row?.slice(label.length).trim().split(/\s+/)[0]);
};

describe('npm run upload (bulk upload CLI)', () => {
  let stack: TestStack;
  let dir: string;
  let env: Record<string, string>;
  let first: CliRun;

  beforeAll(async () => {
    stack = await startTestStack();
    dir = await mkdtemp(join(tmpdir(), 'media-cli-'));
    await mkdir(join(dir, 'more'));
    // 30 small real photos (a third in a subfolder); the grain makes each one different. Number 12 is
    // cut short. Enough for the tenth-by-tenth progress lines and for concurrency 8 to overlap.
    for (let i = 0; i < PHOTOS; i++) {
      const photo = await makePhoto({ width: 96 + (i % 7) * 8, height: 72, quality: 80 });
      const name = join(dir, i < 20 ? '' : 'more', `photo-${String(i).padStart(3, '0')}.jpg`);
      await writeFile(name, i === 12 ? photo.subarray(0, Math.floor(photo.length * 0.6)) : photo);
    }
    await writeFile(join(dir, 'notes.txt'), 'not a photo');
    const token = await stack.token({ role: 'service', sub: 'ai-service', tenant: uniqueTenant() });
    env = { MEDIA_API_URL: stack.apiUrl, MEDIA_TOKEN: token };
    first = await runCli([dir, '--purpose', 'training', '--concurrency', '8'], env);
    console.log(`first run (exit ${first.code}):\n${first.stdout}`);
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads 29 photos until ready and reports the truncated one as rejected, with why', () => {
    expect(countOf(first.stdout, 'ready'), first.stdout + first.stderr).toBe(PHOTOS - 1);
    expect(countOf(first.stdout, 'rejected')).toBe(1);
    expect(countOf(first.stdout, 'failed')).toBe(0);
    expect(first.stdout).toMatch(/Rejected \(1\):\n\s+photo-012\.jpg\s+CORRUPT_IMAGE\s+The image could not be decoded/);
    expect(first.stdout).toContain('Ignored 1 file(s) that are not photos or videos by name: notes.txt');
  });

  it('exits non-zero because a file was rejected', () => {
    expect(first.code).toBe(1);
  });

  it('shows one overall progress line per tenth of the files when not on a terminal', () => {
    const lines = first.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines.at(-1)).toMatch(/^30\/30 files · [\d.]+ KB\/[\d.]+ KB · [\d.]+ [KM]?B\/s · done$/);
    expect(lines.join('\n')).not.toContain('\r');
  });

  it('skips all 29 on a second run by sha256, and creates no duplicates', async () => {
    const second = await runCli([dir, '--purpose', 'training', '--concurrency', '8'], env);
    console.log(`second run (exit ${second.code}):\n${second.stdout}`);
    expect(countOf(second.stdout, 'skipped (already uploaded)'), second.stdout + second.stderr).toBe(PHOTOS - 1);
    expect(countOf(second.stdout, 'ready')).toBe(0);
    expect(countOf(second.stdout, 'rejected')).toBe(1);
    expect(second.code).toBe(1);
    const { json } = await stack.api<ListAnswer>('GET', '/v1/media?purpose=training&status=ready&limit=100', { token: env.MEDIA_TOKEN });
    expect(json.items).toHaveLength(PHOTOS - 1);
    // Progress counts only what is really sent (the one rejected file, again), so the time left is
    // that file's, not the whole folder's.
    const lines = second.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^29\/30 files · 0 B\/[\d.]+ KB · /);
    expect(lines.at(-1)).toMatch(/^30\/30 files · .* · done$/);
  });

  it('stops once, with exit status 2, when the API does not answer', async () => {
    const run = await runCli([dir, '--purpose', 'training'], { MEDIA_API_URL: 'http://127.0.0.1:9', MEDIA_TOKEN: env.MEDIA_TOKEN! });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^Stopped: The media API at http:\/\/127\.0\.0\.1:9 does not answer/),
    ]);
    expect(run.stdout).toBe('');
  });

  it('stops once, with exit status 2, when the API refuses the token', async () => {
    const run = await runCli([dir, '--purpose', 'training'], { MEDIA_API_URL: stack.apiUrl, MEDIA_TOKEN: 'nope' });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^Stopped: The media API refused the token: /)]);
  });

  it('stops once, with exit status 2, when the token may not upload the purpose', async () => {
    const student = await stack.token({ role: 'student', sub: 's-1', tenant: uniqueTenant() });
    const run = await runCli([dir, '--purpose', 'training'], { MEDIA_API_URL: stack.apiUrl, MEDIA_TOKEN: student });
    expect(run.code).toBe(2);
    expect(
      run.stderr
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('Stopped:')),
    ).toEqual([expect.stringMatching(/^Stopped: This token may not upload training photos here: /)]);
    expect(run.stdout).toBe('');
  });

  it('says a folder is missing, with exit status 2 and no raw ENOENT', async () => {
    const run = await runCli([join(dir, 'nowhere'), '--purpose', 'training'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`No folder ${join(dir, 'nowhere')}: check the path.`);
    expect(run.stderr).not.toContain('ENOENT');
  });

  it('refuses to start without a purpose or a token, with exit status 2', async () => {
    const noPurpose = await runCli([dir], env);
    expect(noPurpose.code).toBe(2);
    expect(noPurpose.stderr).toContain('--purpose must be one of');
    const noToken = await runCli([dir, '--purpose', 'training'], { MEDIA_API_URL: stack.apiUrl, MEDIA_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('No token');
  });
});
