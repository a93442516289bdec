import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUpload, createTokenVerifier, type MediaError, type Principal } from '@media/core';

const repoRoot = new URL('../..', import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command's entry point, as npm runs it, on this Node. */
function run(entry: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', entry, ...args],
      { cwd: repoRoot, env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: typeof error?.code === 'number' ? error.code : error ? 1 : 0, stdout, stderr });
      },
    );
  });
}
const upload = (args: string[], env?: Record<string, string>) => run('packages/client/src/bin/upload.ts', args, env);
const token = (args: string[], env?: Record<string, string>) => run('packages/local/src/bin/token.ts', args, env);
const smoke = (args: string[], env?: Record<string, string>) => run('infra/bin/smoke.ts', args, env);

/** Bad usage: exit status 2, one line on stderr, nothing that looks like a stack trace. */
function expectUsageError(result: Run, sentence: string) {
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(sentence)]);
  expect(result.stderr).not.toMatch(/\n\s+at |Error:/);
}

describe('usage errors of the command-line tools', () => {
  let workDir: string;
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'media-cli-usage-'));
  });
  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('npm run upload: an attendance run without --classroom stops before any request, in one sentence', async () => {
    // Nothing listens on port 9: a request would end in "does not answer", not in the usage sentence.
    const result = await upload([workDir, '--purpose', 'attendance'], { MEDIA_API_URL: 'http://127.0.0.1:9', MEDIA_TOKEN: 'any' });
    expectUsageError(result, '--purpose attendance needs --classroom <id>.');
  });

  it('npm run upload: an unknown option is one sentence, not a stack trace', async () => {
    expectUsageError(await upload([workDir, '--purpose', 'general', '--classrooms', 'c-1'], { MEDIA_TOKEN: 'any' }), '--classrooms');
  });

  it('npm run token: takes --classroom (as the upload CLI spells it) and --classrooms', async () => {
    const claimsOf = (jwt: string) =>
      JSON.parse(Buffer.from(jwt.trim().split('.')[1]!, 'base64url').toString()) as { classrooms: string[] };
    const [one, several] = await Promise.all([token(['--classroom', 'c-1']), token(['--classrooms', 'c-1,c-2', '--classroom', 'c-3'])]);
    expect(claimsOf(one.stdout).classrooms).toEqual(['c-1']);
    expect(claimsOf(several.stdout).classrooms).toEqual(['c-1', 'c-2', 'c-3']);
  });

  it('npm run token: an unknown option, a bad role or a missing key file is one sentence with exit status 2', async () => {
    // Independent runs, started together: each is mostly a Node start.
    const [unknown, role, key, jwks] = await Promise.all([
      token(['--clasroom', 'x']),
      token(['--role', 'parent']),
      token(['--key', join(workDir, 'missing.pem')]),
      token(['--jwks']),
    ]);
    expectUsageError(unknown, 'Unknown or incomplete option --clasroom.');
    expectUsageError(role, '--role must be one of student, teacher, admin, service.');
    expectUsageError(key, 'No key file');
    expectUsageError(jwks, '--jwks needs --key');
  });

  it('npm run smoke: a missing URL or token, an unknown option or a bad timeout is one sentence with exit status 2', async () => {
    const noToken = { MEDIA_SMOKE_TOKEN: '' };
    const [noUrl, missingToken, notHttp, unknown, badTimeout] = await Promise.all([
      smoke([], noToken),
      smoke(['http://127.0.0.1:9'], noToken),
      smoke(['ftp://example.org'], noToken),
      smoke(['http://127.0.0.1:9', '--tokn', 'x']),
      smoke(['http://127.0.0.1:9', '--token', 'x', '--timeout', 'soon']),
    ]);
    expectUsageError(noUrl, 'Name the API URL');
    expectUsageError(missingToken, 'Give a token');
    expectUsageError(notHttp, 'is not an http(s) URL.');
    expectUsageError(unknown, 'Unknown or incomplete option --tokn.');
    expectUsageError(badTimeout, '--timeout must be a number');
  });

  it("a teacher's training upload is refused for the role, not for a subject or classroom", () => {
    const teacher = { role: 'teacher', tenant: 'school-1', sub: 't-1', classrooms: ['c-1'] } as Principal;
    const refusal = (() => {
      try {
        authorizeUpload(teacher, { purpose: 'training', subjectIds: [], classroomId: null });
      } catch (error) {
        return error as MediaError;
      }
      throw new Error('expected a refusal');
    })();
    expect(refusal.code).toBe('FORBIDDEN');
    expect(refusal.message).toBe('A teacher may not upload training media: only administrators, ai-service may.');
  });
});

describe('npm run token for a real issuer (--key, --jwks)', () => {
  let workDir: string;
  let jwksServer: Server;
  let jwks = '';

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'media-issuer-'));
    jwksServer = createServer((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => jwksServer?.close(resolve));
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  for (const [alg, pair] of [
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const) {
    it(`signs ${alg} with a kid, and the service verifies it against the JWKS --jwks printed`, async () => {
      const keyFile = join(workDir, `${alg}.pem`);
      await writeFile(keyFile, pair().privateKey.export({ type: 'pkcs8', format: 'pem' }));
      // Two runs of the tool on the same key, started together: each is mostly a Node start.
      const [printed, minted] = await Promise.all([
        token(['--jwks', '--key', keyFile]),
        token([
          '--key',
          keyFile,
          '--role',
          'admin',
          '--tenant',
          'school-9',
          '--sub',
          'dpo-1',
          '--issuer',
          'https://id.test/',
          '--audience',
          'media-service',
        ]),
      ]);
      expect(printed.code).toBe(0);
      jwks = printed.stdout;
      const [key] = (JSON.parse(jwks) as { keys: { kid: string; alg: string; d?: string }[] }).keys;
      expect(key).toMatchObject({ alg, kid: expect.any(String) });
      expect(key!.d).toBeUndefined(); // the public half only

      expect(minted.code).toBe(0);
      const header = JSON.parse(Buffer.from(minted.stdout.split('.')[0]!, 'base64url').toString()) as { alg: string; kid: string };
      expect(header).toMatchObject({ alg, kid: key!.kid });

      const { port } = jwksServer.address() as AddressInfo;
      const verify = createTokenVerifier({
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
        issuer: 'https://id.test/',
        audience: 'media-service',
      });
      expect(await verify(`Bearer ${minted.stdout.trim()}`)).toMatchObject({ role: 'admin', tenant: 'school-9', sub: 'dpo-1' });
    });
  }

  it('refuses a key of a kind the service does not verify', async () => {
    const keyFile = join(workDir, 'ed25519.pem');
    await writeFile(keyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expectUsageError(await token(['--key', keyFile]), 'the service verifies RS256 and ES256 only');
  });
});
