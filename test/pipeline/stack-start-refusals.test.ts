import './support/quiet';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockEmbeddedDatabase, pgliteDirIn } from '@media/db';
import { freePort } from './support/child-stack';

/** `npm start` run to its end: its exit code and everything it printed. */
async function startToExit(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/local/src/bin/start.ts'], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, output: output.trim() };
}

/** Holds a port as another program would; resolves once listening (or at once if it is taken already). */
async function occupy(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => {
    server.once('error', () => resolve());
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}

describe.concurrent('npm start refuses, in one sentence and before it starts anything', () => {
  let dataDir: string;
  const servers: Server[] = [];
  const base = () => {
    const { DATABASE_URL: _server, MEDIA_S3_PORT: _s3, MEDIA_SQS_PORT: _sqs, ...env } = process.env;
    return { ...env, MEDIA_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'ERROR' };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'media-refusals-'));
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('a busy API port: names it and a PORT whose three ports are free', async () => {
    const port = await freePort();
    servers.push(await occupy(port));
    const { code, output } = await startToExit({ ...base(), PORT: String(port) });
    expect(code, output).toBe(1);
    expect(output).toMatch(new RegExp(`^port ${port} \\(API, PORT\\) is in use: try PORT=\\d+$`));
    expect(existsSync(pgliteDirIn(dataDir)), 'the database was opened before the ports were checked').toBe(false);
  });

  it('a busy S3 port the user never chose (PORT+1): names MEDIA_S3_PORT and suggests another PORT', async () => {
    const port = await freePort();
    servers.push(await occupy(port + 1));
    const { code, output } = await startToExit({ ...base(), PORT: String(port) });
    expect(code, output).toBe(1);
    expect(output).toMatch(new RegExp(`^port ${port + 1} \\(S3, MEDIA_S3_PORT\\) is in use: try PORT=\\d+$`));
  });

  it('a busy SQS port set on its own: suggests another value for that variable', async () => {
    const [port, sqsPort] = [await freePort(), await freePort()];
    servers.push(await occupy(sqsPort));
    const { code, output } = await startToExit({ ...base(), PORT: String(port), MEDIA_S3_PORT: '0', MEDIA_SQS_PORT: String(sqsPort) });
    expect(code, output).toBe(1);
    expect(output).toMatch(new RegExp(`^port ${sqsPort} \\(SQS, MEDIA_SQS_PORT\\) is in use: try MEDIA_SQS_PORT=\\d+$`));
  });

  // This one loads the whole stack before it meets the lock: seconds on a quiet machine, a minute on a busy one.
  it('an embedded database another process holds: names its pid and the way out', { timeout: 180_000 }, async () => {
    const port = await freePort();
    const lock = lockEmbeddedDatabase(pgliteDirIn(dataDir), { command: 'npm run seed' });
    try {
      const { code, output } = await startToExit({ ...base(), PORT: String(port), MEDIA_S3_PORT: '0', MEDIA_SQS_PORT: '0' });
      expect(code, output).toBe(1);
      expect(output.split('\n').at(-1)).toBe(
        `the embedded database ${pgliteDirIn(dataDir)} is in use by process ${process.pid} (npm run seed): stop it, or set MEDIA_DATA_DIR / DATABASE_URL to use another database`,
      );
      expect(output, 'a stack trace was printed').not.toMatch(/^\s+at /m);
    } finally {
      lock.release();
    }
  });
});
