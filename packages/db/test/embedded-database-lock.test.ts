import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedDatabaseInUseError, lockEmbeddedDatabase, pgliteDirIn } from '../src/index';

const repoRoot = resolve(import.meta.dirname, '../../..');
const lockModule = resolve(import.meta.dirname, '../src/embedded-database-lock.ts');

/** Another process that takes the folder's lock and keeps it until it is stopped. */
async function holderProcess(script: string, dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((ready, fail) => {
    child.stdout!.on('data', (d) => {
      output += d;
      if (output.includes('locked')) ready();
    });
    child.stderr!.on('data', (d) => (output += d));
    child.once('exit', (code) => fail(new Error(`the holder exited (${code}) before locking:\n${output}`)));
  });
  return child;
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

/** Runs a tool as npm does, on the PGlite folder under `dataDir`; resolves with its exit code and output. */
async function runTool(tool: string, args: string[], dataDir: string): Promise<{ code: number | null; stderr: string }> {
  const { DATABASE_URL: _server, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', `packages/db/src/bin/${tool}.ts`, ...args], {
    cwd: repoRoot,
    env: { ...env, MEDIA_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, stderr };
}

describe('one process per embedded database', () => {
  let dir: string;
  let holderScript: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-lock-'));
    holderScript = join(dir, 'holder.mts');
    await writeFile(
      holderScript,
      `import { lockEmbeddedDatabase } from ${JSON.stringify(lockModule)};\n` +
        `lockEmbeddedDatabase(process.argv[2], { command: 'npm start' });\nconsole.log('locked');\nsetInterval(() => {}, 60_000);\n`,
    );
  });
  afterAll(async () => {
    for (const child of children) await killed(child);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second opener while the holder lives, naming its pid, what it runs and the way out', async () => {
    const folder = join(dir, 'held', 'pglite');
    const holder = await holderProcess(holderScript, folder);
    children.push(holder);

    let refusal: unknown;
    try {
      lockEmbeddedDatabase(folder);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(EmbeddedDatabaseInUseError);
    expect((refusal as EmbeddedDatabaseInUseError).holder.pid).toBe(holder.pid);
    expect((refusal as Error).message).toBe(
      `the embedded database ${folder} is in use by process ${holder.pid} (npm start): stop it, or set MEDIA_DATA_DIR / DATABASE_URL to use another database`,
    );
    await killed(holder);
  });

  it('takes over the lock of a process that was killed while holding it', async () => {
    const folder = join(dir, 'stale', 'pglite');
    const holder = await holderProcess(holderScript, folder);
    children.push(holder);
    await killed(holder);
    expect(JSON.parse(await readFile(`${folder}.lock`, 'utf8')).pid, 'the dead holder left its lock behind').toBe(holder.pid);

    const lock = lockEmbeddedDatabase(folder);
    expect(JSON.parse(await readFile(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('lets the next opener in once the holder releases the folder', async () => {
    const folder = join(dir, 'released', 'pglite');
    lockEmbeddedDatabase(folder).release();
    const again = lockEmbeddedDatabase(folder);
    again.release();
    await expect(readFile(again.path, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it.each([
    ['seed', ['--rows', '10']],
    ['migrate', []],
    ['recount', []],
  ])('npm run %s on a folder in use exits 1 with one sentence naming the holder, and writes nothing', async (tool, args) => {
    const dataDir = join(dir, `tool-${tool}`);
    const lock = lockEmbeddedDatabase(pgliteDirIn(dataDir), { command: 'npm start' });
    try {
      const { code, stderr } = await runTool(tool, args, dataDir);
      expect(code, stderr).toBe(1);
      expect(stderr.trim()).toBe(
        `the embedded database ${pgliteDirIn(dataDir)} is in use by process ${process.pid} (npm start): stop it, or set MEDIA_DATA_DIR / DATABASE_URL to use another database`,
      );
      expect(existsSync(pgliteDirIn(dataDir)), 'the refused tool created the database folder').toBe(false);
    } finally {
      lock.release();
    }
  });
});
