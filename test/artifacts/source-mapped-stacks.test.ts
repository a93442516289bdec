import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { functionBuildOptions } from '../../infra/lib/media-function';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** A TypeScript source, its lines after the two that install the mapping as the functions do. */
const sourceWithMapping = (...lines: string[]) =>
  [
    `import { mapStacksOfBundle } from '${join(import.meta.dirname, '../../functions/shared/source-mapped-stacks.ts')}';`,
    'mapStacksOfBundle(import.meta.url);',
    ...lines,
    '',
  ].join('\n');

describe('stack traces of a minified bundle without --enable-source-maps', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-stacks-'));
    // A function that fails on line 5 of its TypeScript source, bundled as the functions are
    // (infra/lib/media-function.ts: minified, split, maps beside the files).
    await writeFile(
      join(dir, 'failing-step.ts'),
      sourceWithMapping('', 'export function failingStep(): never {', "  throw new Error('the step failed');", '}'),
    );
    await build({ ...functionBuildOptions(join(dir, 'failing-step.ts'), dir, []), logLevel: 'error' });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('name the TypeScript source of a frame in a chunk split off the bundle (chunks/, as the functions are built)', async () => {
    const split = join(dir, 'split');
    // The entry installs the mapping; the failing step is reached through import(), so it lands in a chunk.
    await writeFile(
      join(dir, 'entry.ts'),
      sourceWithMapping("export const failingStep = async () => (await import('./late-step')).lateStep();"),
    );
    await writeFile(
      join(dir, 'late-step.ts'),
      ['export function lateStep(): never {', "  throw new Error('the late step failed');", '}', ''].join('\n'),
    );
    await build({ ...functionBuildOptions(join(dir, 'entry.ts'), split, []), logLevel: 'error' });
    const stack = await stackOf(
      `const m = await import(${JSON.stringify(join(split, 'index.mjs'))}); try { await m.failingStep(); } catch (e) { console.log(e.stack); }`,
    );
    expect(stack).toMatch(/^Error: the late step failed\n/);
    expect(stack).toMatch(/late-step\.ts:2:\d+\)/);
    expect(stack).toMatch(/entry\.ts:3:\d+\)/);
  });

  const stackOf = async (script: string) =>
    (await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: '' } })).stdout;

  it('name the TypeScript source and line, read from the map beside the bundle when a stack is first formatted', async () => {
    const stack = await stackOf(
      `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); try { m.failingStep(); } catch (e) { console.log(e.stack); }`,
    );
    expect(stack).toMatch(/^Error: the step failed\n/);
    expect(stack).toMatch(/failing-step\.ts:5:\d+\)/);
  });

  it('are left as V8 writes them when no map lies beside the bundle', async () => {
    await rm(join(dir, 'index.mjs.map'));
    const stack = await stackOf(
      `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); try { m.failingStep(); } catch (e) { console.log(e.stack); }`,
    );
    expect(stack).toMatch(/^Error: the step failed\n/);
    expect(stack).toContain('index.mjs:');
    expect(stack).not.toContain('failing-step.ts');
  });
});
