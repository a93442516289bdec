import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LockedPackage } from '../src/video-tools';

const run = promisify(execFile);
const here = import.meta.dirname;

describe('a package unpacked into the cache', () => {
  let dir: string;
  let pkg: LockedPackage;
  const cache = () => join(dir, 'cache');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'media-unpacked-'));
    // A real .deb, built here, holding many files, so an unpack takes long enough to overlap another.
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
    mkdirSync(join(tree, 'usr', 'lib', 'probe'), { recursive: true });
    writeFileSync(
      join(tree, 'DEBIAN', 'control'),
      'Package: probe\nVersion: 1.0\nArchitecture: all\nMaintainer: media <media@example.org>\nDescription: probe\n',
    );
    for (let i = 0; i < 400; i++) writeFileSync(join(tree, 'usr', 'lib', 'probe', `file-${i}`), `content ${i}\n`.repeat(200));
    const deb = join(dir, 'probe.deb');
    execFileSync('dpkg-deb', ['--build', '-Znone', tree, deb], { stdio: 'ignore' });
    const sha256 = createHash('sha256').update(readFileSync(deb)).digest('hex');
    pkg = { name: 'probe', version: '1.0', url: 'https://deb.invalid/probe.deb', sha256, size: 0 };
    // Already in the cache under its locked name: nothing is downloaded.
    mkdirSync(cache(), { recursive: true });
    writeFileSync(join(cache(), `probe_1.0_${sha256.slice(0, 16)}.deb`), readFileSync(deb));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is whole when several processes unpack it at once, and no half-written tree is left beside it', async () => {
    const script = [
      `import { unpackedPackage } from ${JSON.stringify(join(here, '..', 'src', 'video-tools.ts'))};`,
      `unpackedPackage(${JSON.stringify(pkg)}, ${JSON.stringify(cache())}).then((root) => process.stdout.write(root));`,
    ].join('\n');
    const tsx = join(here, '..', '..', '..', 'node_modules', '.bin', 'tsx');
    const roots = await Promise.all([1, 2, 3].map(() => run(tsx, ['--eval', script]).then(({ stdout }) => stdout)));
    expect(new Set(roots).size).toBe(1);
    const root = roots[0]!;
    expect(readdirSync(join(root, 'usr', 'lib', 'probe'))).toHaveLength(400);
    expect(readFileSync(join(root, 'usr', 'lib', 'probe', 'file-399'), 'utf8')).toBe('content 399\n'.repeat(200));
    expect(readdirSync(join(cache(), 'unpacked')).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });
});
