import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@media/core';
import { shippedVideoTools, unpackVideoTools } from '@media/imaging';

const exec = promisify(execFile);
const BASE = { MEDIA_BUCKET: 'media-test', MEDIA_JWT_SECRET: 'a-secret-of-sixteen+', DATABASE_URL: 'postgres://localhost/media' };
const LIMITS = { toolSeconds: 60, toolMemoryMiB: 1024 };

/** A ustar archive as the bundling step writes one, of the folder's contents. */
async function archiveOf(folder: string, file: string, extra: string[] = []): Promise<string> {
  await exec('sh', ['-c', `tar --format=ustar ${extra.join(' ')} -C "$1" -cf - . | gzip -n > "$2"`, 'archive', folder, file]);
  return file;
}

describe("the video function's tools archive", () => {
  let work: string;
  let tools: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'media-tools-archive-'));
    tools = join(work, 'tools');
    await mkdir(join(tools, 'lib'), { recursive: true });
    for (const name of ['ffmpeg', 'ffprobe']) {
      await writeFile(join(tools, name), `#!/bin/sh\necho "${name} from the archive"\n`);
      await chmod(join(tools, name), 0o755);
    }
    await writeFile(join(tools, 'lib', 'libempty.so.1'), Buffer.alloc(70_000, 7));
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is used in Lambda, unless the tools are named by path', () => {
    const archive = '/var/task/video-tools.tar.gz';
    expect(loadConfig({ ...BASE, MEDIA_VIDEO_TOOLS_ARCHIVE: archive }).video).toMatchObject({ archive });
    expect(loadConfig({ ...BASE, MEDIA_VIDEO_TOOLS_ARCHIVE: archive, MEDIA_FFPROBE_PATH: '/opt/ffprobe' }).video).not.toHaveProperty(
      'archive',
    );
    expect(loadConfig(BASE).video).toMatchObject({ ffprobePath: 'ffprobe', ffmpegPath: 'ffmpeg' });
  });

  it('is unpacked once, its launchers executable, with every byte of every file', async () => {
    const archive = await archiveOf(tools, join(work, 'tools.tar.gz'));
    const first = await shippedVideoTools({ ffprobePath: 'ffprobe', ffmpegPath: 'ffmpeg', archive, ...LIMITS });
    const { stdout } = await exec(first.ffprobePath, [], { env: {} });
    expect(stdout).toBe('ffprobe from the archive\n');
    expect((await exec(first.ffmpegPath, [], { env: {} })).stdout).toBe('ffmpeg from the archive\n');
    const folder = join(first.ffprobePath, '..');
    expect((await exec('cmp', [join(folder, 'lib', 'libempty.so.1'), join(tools, 'lib', 'libempty.so.1')])).stdout).toBe('');
    const again = await shippedVideoTools({ ffprobePath: 'ffprobe', ffmpegPath: 'ffmpeg', archive, ...LIMITS });
    expect(again.ffprobePath).toBe(first.ffprobePath);
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses an entry outside its folder or a link, and leaves nothing unpacked', async () => {
    const under = join(work, 'unpacked');
    await mkdir(under);
    const escaping = await archiveOf(tools, join(work, 'escaping.tar.gz'), ['-P', "--transform='s,^\\./ffmpeg,../ffmpeg,'"]);
    await expect(unpackVideoTools(escaping, under)).rejects.toThrow(/outside/);
    const linked = join(work, 'linked');
    await mkdir(linked);
    await symlink('/etc/passwd', join(linked, 'ffprobe'));
    await expect(unpackVideoTools(await archiveOf(linked, join(work, 'linked.tar.gz')), under)).rejects.toThrow(/type 2/);
    expect(await readdir(under)).toEqual([]);
  });
});
