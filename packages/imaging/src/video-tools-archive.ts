import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { VideoTools } from './video-tool';

const BLOCK = 512;

const unpacked = new Map<string, Promise<string>>();

/**
 * The tools to run: the configured paths, or, where the function ships an archive, its launchers
 * once it is unpacked (once per process; a failed unpack is tried again by the next video).
 */
export async function shippedVideoTools(tools: VideoTools): Promise<VideoTools> {
  if (!tools.archive) return tools;
  const archive = tools.archive;
  let dir = unpacked.get(archive);
  if (!dir) {
    dir = unpackVideoTools(archive);
    unpacked.set(archive, dir);
    dir.catch(() => unpacked.delete(archive));
  }
  const folder = await dir;
  return { ...tools, ffmpegPath: join(folder, 'ffmpeg'), ffprobePath: join(folder, 'ffprobe') };
}

/**
 * The video function ships ffmpeg, ffprobe, Debian's loader and their libraries as one gzipped tar
 * (docs/large-media.md § ffmpeg and ffprobe): unpacked they are over 200 MB, and Lambda counts the
 * unpacked package against its 250 MB. On a cold start they are unpacked into /tmp once per
 * execution environment; later calls find them there.
 *
 * Returns the folder holding the `ffmpeg` and `ffprobe` launchers.
 */
export async function unpackVideoTools(archive: string, under = tmpdir()): Promise<string> {
  const { size, mtimeMs } = await stat(archive);
  const dir = join(under, `video-tools-${size}-${Math.round(mtimeMs)}`);
  if (await stat(join(dir, 'ffprobe')).catch(() => undefined)) return dir;
  const partial = `${dir}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  try {
    await extractTar(archive, partial);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return dir;
}

/** A ustar archive of regular files and folders, as the build writes it; anything else is refused. */
async function extractTar(archive: string, into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  let pending: Buffer = Buffer.alloc(0);
  let file: { handle: FileHandle; remaining: number; padding: number } | undefined;
  let skip = 0;
  let ended = false;
  for await (const chunk of createReadStream(archive).pipe(createGunzip())) {
    pending = pending.length > 0 ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    while (!ended) {
      if (file) {
        const take = Math.min(file.remaining, pending.length);
        if (take > 0) await file.handle.write(pending.subarray(0, take));
        pending = pending.subarray(take);
        file.remaining -= take;
        if (file.remaining > 0) break;
        await file.handle.close();
        skip = file.padding;
        file = undefined;
      }
      if (skip > 0) {
        const take = Math.min(skip, pending.length);
        pending = pending.subarray(take);
        skip -= take;
        if (skip > 0) break;
      }
      if (pending.length < BLOCK) break;
      const header = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (header.every((b) => b === 0)) {
        ended = true;
        break;
      }
      const field = (offset: number, length: number) => header.toString('latin1', offset, offset + length).replace(/\0.*$/s, '');
      const name = normalize([field(345, 155), field(0, 100)].filter(Boolean).join('/'));
      if (name.startsWith('..') || name.startsWith('/')) throw new Error(`the video tools' archive holds a path outside it: ${name}`);
      const mode = Number.parseInt(field(100, 8), 8) & 0o755;
      const size = Number.parseInt(field(124, 12), 8);
      const type = field(156, 1) || '0';
      const target = join(into, name);
      if (type === '5') {
        await mkdir(target, { recursive: true });
      } else if (type === '0') {
        await mkdir(dirname(target), { recursive: true });
        const handle = await open(target, 'w', mode);
        await chmod(target, mode);
        file = { handle, remaining: size, padding: (BLOCK - (size % BLOCK)) % BLOCK };
      } else {
        throw new Error(`the video tools' archive holds an entry of type ${type}: ${name}`);
      }
    }
  }
  if (file || !ended) throw new Error("the video tools' archive is truncated");
}
