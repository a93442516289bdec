import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = resolve(new URL('../..', import.meta.url).pathname);
// Inside the repository, so the built declarations find zod's types as a consumer's would.
const built = join(repoRoot, 'test-results', 'client-package');
const consumer = join(repoRoot, 'test-results', 'client-consumer');

/** A TypeScript user of the published package, with Node's own ESM resolution. */
const CONSUMER_SOURCE = `
import { createMediaClient, isMediaApiError, type MediaRecord, type UploadProgress } from '@media/client';
import { uploadFile } from '@media/client/node';
import { uppyS3Options } from '@media/client/uppy';
import AwsS3 from '@uppy/aws-s3';
import Uppy from '@uppy/core';

const client = createMediaClient({ baseUrl: 'https://media.example', getToken: async () => 'jwt' });
export async function example(file: Blob): Promise<MediaRecord['status']> {
  const { mediaId } = await client.upload(file, { purpose: 'general' }, { onProgress: (p: UploadProgress) => p.fraction });
  await uploadFile(client, 'photo.jpg', { purpose: 'training' });
  try {
    return (await client.waitUntilReady(mediaId, { timeoutMs: 30_000 })).status;
  } catch (error) {
    if (isMediaApiError(error, 'NOT_FOUND')) return 'deleted';
    throw error;
  }
}
// @ts-expect-error: not a purpose of the contract (proves the types are real, not any)
client.upload(new Blob([]), { purpose: 'selfie' });

const uppy = new Uppy();
uppy.use(AwsS3, uppyS3Options(client, uppy, { purpose: 'attendance', classroomId: 'c-1' }));
// @ts-expect-error: the options are the contract's too
uppyS3Options(client, uppy, { purpose: 'selfie' });
`;

describe('the published shape of @media/client', () => {
  beforeAll(async () => {
    await rm(built, { recursive: true, force: true });
    await run(process.execPath, ['--import', 'tsx', 'packages/client/src/bin/build.ts', built], { cwd: repoRoot });
  }, 120_000);

  it('is ESM with types for `.`, `./node` and `./uppy`, and a media-upload command', async () => {
    const manifest = JSON.parse(await readFile(join(built, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      name: '@media/client',
      type: 'module',
      exports: {
        '.': { types: expect.stringMatching(/\.d\.ts$/), default: './index.js' },
        './node': { types: expect.stringMatching(/\.d\.ts$/), default: './node.js' },
        './uppy': { types: expect.stringMatching(/\.d\.ts$/), default: './uppy.js' },
      },
      bin: { 'media-upload': './bin/upload.js' },
    });
    const browser = await import(pathToFileURL(join(built, 'index.js')).href);
    expect(Object.keys(browser).sort()).toEqual(['MediaApiError', 'MediaRejectedError', 'createMediaClient', 'isMediaApiError']);
    const uppy = await import(pathToFileURL(join(built, 'uppy.js')).href);
    expect(Object.keys(uppy)).toEqual(['uppyS3Options']);
    const { stdout } = await run(process.execPath, [join(built, 'bin/upload.js'), '--help']);
    expect(stdout).toContain('--purpose');
  });

  it.each(['index.js', 'uppy.js'])('keeps Node modules (and, for Uppy, Uppy itself) out of the browser entry %s', async (entry) => {
    const text = await readFile(join(built, entry), 'utf8');
    expect(text).not.toMatch(/["']node:/);
    expect(text).not.toMatch(/["']@uppy\//);
  });

  // A whole tsc run over the package's declarations and Uppy's (TypeScript 7: under a second here).
  it('type-checks a consumer that uses it under moduleResolution nodenext', async () => {
    await rm(consumer, { recursive: true, force: true });
    await mkdir(join(consumer, 'node_modules', '@media'), { recursive: true });
    await symlink(built, join(consumer, 'node_modules', '@media', 'client'), 'dir');
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ type: 'module' }));
    await writeFile(join(consumer, 'consumer.ts'), CONSUMER_SOURCE);
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2023', 'dom'],
          types: [],
          noEmit: true,
          skipLibCheck: true,
        },
        files: ['consumer.ts'],
      }),
    );
    // TypeScript 7 exports only its package.json and version: its bin is found beside the former.
    const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', consumer]).catch((error) => error);
    expect(`${result.stdout ?? ''}${result.stderr ?? ''}`).toBe('');
  }, 180_000);
});
