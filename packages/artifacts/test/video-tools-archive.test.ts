import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { videoToolsArchive, type VideoToolsLock } from '../src/video-tools';

/** A lock that pins no package: the archive holds the two launchers alone (no download, no 200 MB gzip). */
const lock: VideoToolsLock = {
  distribution: 'bookworm',
  architecture: 'amd64',
  version: '5.1.9-0+deb12u1',
  releasedAt: '2026-05-13',
  lockedAt: '2026-12-01',
  loader: 'lib/ld-linux-x86-64.so.2',
  packages: [],
  files: [],
};

describe('the video tools archive, kept per lock', () => {
  let dir: string;
  const cache = () => join(dir, 'cache');
  const kept = async () =>
    (await readdir(join(cache(), 'archives'))).filter((name) => name.endsWith('.tar.gz')).map((name) => join(cache(), 'archives', name));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-video-archive-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is built once: a second build of the same lock is the kept archive, byte for byte', async () => {
    await videoToolsArchive(lock, join(dir, 'first.tar.gz'), cache());
    const [archive] = await kept();
    expect(archive).toBeDefined();
    await videoToolsArchive(lock, join(dir, 'second.tar.gz'), cache());
    expect(await readFile(join(dir, 'second.tar.gz'))).toEqual(await readFile(join(dir, 'first.tar.gz')));
    expect(await kept()).toEqual([archive]);
  });

  it('is built again when the kept copy no longer matches its sha256, and the kept copy is replaced', async () => {
    const [archive] = await kept();
    const good = await readFile(archive!);
    await writeFile(archive!, Buffer.concat([good, Buffer.from('tampered')]));
    await videoToolsArchive(lock, join(dir, 'third.tar.gz'), cache());
    expect(await readFile(join(dir, 'third.tar.gz'))).toEqual(good);
    expect(await readFile(archive!)).toEqual(good);
  });

  it('is another archive for another lock', async () => {
    await videoToolsArchive({ ...lock, version: '5.1.10-0+deb12u1' }, join(dir, 'other.tar.gz'), cache());
    expect(await kept()).toHaveLength(2);
    expect(await readFile(join(dir, 'other.tar.gz'))).not.toEqual(await readFile(join(dir, 'first.tar.gz')));
  });
});
