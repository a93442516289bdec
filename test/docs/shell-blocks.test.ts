import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStackProcess, stopProcess } from '../pipeline/support/child-stack';
import { isolatedDatabase } from '../pipeline/support/isolated-database';

/**
 * Every shell block of README.md and docs/*.md, run as written against `npm start` on free ports,
 * so a doc that drifts from the code fails here. A block that cannot run on this machine (it
 * deploys to AWS, needs Docker, or starts the stack or the suite itself) says so in its info
 * string (```sh no-run) and is listed below by hand, by file and first line: nothing is left out
 * by accident.
 */
const NOT_RUN = [
  'README.md: npm ci && npm start     # the local stack: API, upload page, S3 and SQS servers, embedded PostgreSQL',
  'README.md: npx cdk synth                      # offline: no AWS access, no lookups',
  'README.md: npm test',
  'README.md: npm run lint        # Biome: its recommended lint rules and its formatter (140 columns), checked, never rewritten',
  'docs/deploy-parity.md: MEDIA_LOCAL_ARTIFACTS=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm start',
  'docs/deploy-parity.md: npm run bench -- --cold',
  'docs/deploy-parity.md: npm run smoke -- https://abc123.execute-api.eu-west-1.amazonaws.com/ --token "$MEDIA_SMOKE_TOKEN"',
  'docs/operations.md: npx cdk deploy -c media:stage=eval \\',
  'docs/operations.md: npx cdk deploy \\',
  'docs/operations.md: openssl genrsa -out cdn-private.pem 2048',
  'docs/operations.md: npx cdk deploy -c media:stage=prod \\',
  'docs/operations.md: npx cdk destroy -c media:stage=prod',
  'docs/operations.md: docker compose -f localstack-compose.yml up -d --wait   # LocalStack + PostgreSQL',
];

const repoRoot = new URL('../..', import.meta.url).pathname;

interface Block {
  /** `file:line` of the opening fence. */
  where: string;
  language: string;
  run: boolean;
  code: string;
}

/** Fenced blocks of a Markdown file, with their info strings. */
function blocksOf(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ where: `${file}:${start + 1}`, language: open[1]!, run: !/\bno-run\b/.test(open[2]!), code: `${body.join('\n')}\n` });
  }
  return blocks;
}

const docs = [
  'README.md',
  ...(await readdir(join(repoRoot, 'docs')))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const allBlocks = (await Promise.all(docs.map(async (file) => blocksOf(file, await readFile(join(repoRoot, file), 'utf8'))))).flat();
const shellBlocks = allBlocks.filter((b) => ['sh', 'bash', 'shell'].includes(b.language));
const runnable = shellBlocks.filter((b) => b.run);

/** The repository's files as git sees them (untracked included), to see that a block left nothing behind. */
const repoState = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: repoRoot, encoding: 'utf8' });

function runBlock(code: string, env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const { MEDIA_JWT_SECRET: _secret, ...inherited } = process.env;
    const child = spawn('bash', ['-euo', 'pipefail', '-c', code], {
      cwd: repoRoot,
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (exit) => {
      clearTimeout(timer);
      resolve({ code: exit, output });
    });
  });
}

describe('the shell blocks of README.md and docs/', () => {
  it('are all run, except those marked no-run, which are exactly the ones listed here', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(3);
    expect(shellBlocks.filter((b) => !b.run).map((b) => `${b.where.replace(/:\d+$/, '')}: ${b.code.split('\n')[0]}`)).toEqual(NOT_RUN);
  });

  it('show the example scripts exactly as they are in docs/examples', async () => {
    const shown = allBlocks.filter((b) => b.language === 'ts' && /^\/\/ docs\/examples\/\S+\.ts/.test(b.code));
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const block of shown) {
      const path = /^\/\/ (docs\/examples\/\S+\.ts)/.exec(block.code)![1]!;
      expect(block.code, `${block.where} shows ${path}`).toBe(await readFile(join(repoRoot, path), 'utf8'));
    }
  });

  describe('against npm start on free ports', () => {
    let stack: ChildProcess | undefined;
    let env: Record<string, string>;
    const cleanup: (() => Promise<unknown>)[] = [];

    beforeAll(async () => {
      const database = await isolatedDatabase();
      cleanup.push(() => database.drop());
      const dataDir = await mkdtemp(join(tmpdir(), 'media-docs-'));
      cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
      const [port, s3Port, sqsPort] = [await freePort(), await freePort(), await freePort()];
      // The blocks' commands (seed, recount) work on the stack's database, never on the server's own.
      env = { PORT: String(port), DATABASE_URL: database.url ?? '' };
      // As a newcomer runs it: the default local secret, which `npm run token` signs with too.
      const { MEDIA_JWT_SECRET: _secret, ...inherited } = process.env;
      const started = await startStackProcess({
        ...inherited,
        PORT: String(port),
        MEDIA_S3_PORT: String(s3Port),
        MEDIA_SQS_PORT: String(sqsPort),
        MEDIA_DATA_DIR: dataDir,
        DATABASE_URL: database.url ?? '',
        POWERTOOLS_LOG_LEVEL: 'ERROR',
      });
      stack = started.child;
    }, 110_000);

    afterAll(async () => {
      if (stack) await stopProcess(stack, 'SIGTERM');
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
    });

    it.each(runnable.map((b) => [b.where, b] as const))(
      '%s runs as written and leaves nothing behind in the repository',
      async (_where, block) => {
        const before = repoState();
        const result = await runBlock(block.code, env, 100_000);
        expect(result.code, `${block.where} exited ${result.code}:\n${block.code}\n--- output ---\n${result.output}`).toBe(0);
        expect(repoState()).toBe(before);
      },
      110_000,
    );
  });
});
