import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arm64EmulationMissing,
  hostArchitecture,
  type LambdaArchitecture,
  QEMU_AARCH64,
  readVideoToolsLock,
  synthesizedApp,
  synthesizedFunction,
  videoToolsArchive,
  type VideoToolsLock,
} from '@media/artifacts';
import { posterFrame, probeVideo, remuxVideo, unpackVideoTools } from '@media/imaging';
import { REPO_ROOT } from '../../infra/lib/repo';
import { LOCATION, phoneClip } from '../fixtures/videos';

const exec = promisify(execFile);
const LOCKS = join(REPO_ROOT, 'infra', 'video-tools');
const DAY = 86_400_000;

/** The bounds docs/large-media.md states, read from it: the test and the guide cannot disagree. */
async function statedBound(what: 'build' | 'lock'): Promise<number> {
  const guide = await readFile(join(REPO_ROOT, 'docs', 'large-media.md'), 'utf8');
  const pattern = what === 'build' ? /pinned\s+build is older than (\d+) days/ : /lock was refreshed more than (\d+) days\s+ago/;
  const match = pattern.exec(guide);
  if (!match) throw new Error(`docs/large-media.md states no age bound for the ${what}`);
  return Number(match[1]);
}

describe('the pinned ffmpeg and ffprobe for Lambda', () => {
  for (const architecture of ['arm64', 'x86_64'] as const) {
    const lock: VideoToolsLock = readVideoToolsLock(LOCKS, architecture);

    it(`${architecture}: is Debian's security-updated build, every package pinned by a sha256 from the archive`, () => {
      expect(lock.distribution).toBe('bookworm');
      expect(lock.version).toMatch(/^7:5\.1\.\d+-0\+deb12u\d+$/);
      expect(lock.packages.map((p) => p.name)).toContain('ffmpeg');
      for (const pkg of lock.packages) {
        expect(pkg.sha256, pkg.name).toMatch(/^[0-9a-f]{64}$/);
        expect(pkg.url, pkg.name).toMatch(/^http:\/\/deb\.debian\.org\/debian(-security)?\/pool\/(updates\/)?main\/.+\.deb$/);
      }
      expect(lock.files.map((f) => f.as)).toEqual(expect.arrayContaining(['bin/ffmpeg', 'bin/ffprobe', lock.loader]));
    });

    it(`${architecture}: is no older than docs/large-media.md allows, and its lock was refreshed in time`, async () => {
      const buildDays = (Date.now() - Date.parse(lock.releasedAt)) / DAY;
      const lockDays = (Date.now() - Date.parse(lock.lockedAt)) / DAY;
      const refresh = 'refresh it: npm run video-tools:lock (docs/large-media.md)';
      expect(buildDays, `ffmpeg ${lock.version} was released ${lock.releasedAt}; ${refresh}`).toBeLessThanOrEqual(
        await statedBound('build'),
      );
      expect(lockDays, `the ${architecture} lock was written ${lock.lockedAt}; ${refresh}`).toBeLessThanOrEqual(await statedBound('lock'));
    });
  }
});

const missing = arm64EmulationMissing();
// CI installs the emulator (.ci/run); elsewhere its absence is said, never silently passed over.
if (missing && process.env.CI) throw new Error(`the arm64 video tools test needs the emulator: ${missing}`);
if (missing) console.warn(`arm64 video tools test skipped: ${missing}`);

/** The architectures whose build this machine runs: its own, and arm64 under qemu. */
const RUNNABLE = [...new Set<LambdaArchitecture>(['arm64', hostArchitecture()])].filter(
  (architecture) => architecture === hostArchitecture() || !missing,
);

/**
 * The archive the video function ships: the synthesized transform function's own where the synth
 * built it for this architecture (Lambda's), else built from the lock as the bundling step builds
 * it; unpacked by the function's own code, and the programs run through their launchers, under qemu
 * for another CPU (what binfmt_misc would do, which a container does not offer): the loader, the
 * libraries and the programs load, and the service's probe, remux and poster work through them.
 */
describe.each(RUNNABLE)('the shipped %s video tools', (architecture) => {
  const emulated = architecture !== hostArchitecture();
  let workDir: string;
  let archive: string;
  let tools: { ffprobePath: string; ffmpegPath: string; toolSeconds: number; toolMemoryMiB: number };
  let clip: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'media-video-tools-'));
    const transform = synthesizedFunction(await synthesizedApp({ repoRoot: REPO_ROOT }), 'transform-video');
    const shipped = transform.environment.MEDIA_VIDEO_TOOLS_ARCHIVE;
    expect(shipped, "the archive in the transform's environment").toBe('/var/task/video-tools.tar.gz');
    if (transform.architecture === architecture) {
      // Built once by the synth, which every artifact test shares: building it again costs a
      // gzip of 200 MB and proves nothing more.
      archive = shipped!.replace('/var/task', transform.assetDir);
    } else {
      archive = join(workDir, 'video-tools.tar.gz');
      await videoToolsArchive(readVideoToolsLock(LOCKS, architecture), archive);
    }
    const unpacked = await unpackVideoTools(archive, workDir);
    const paths: Record<string, string> = {};
    for (const tool of ['ffmpeg', 'ffprobe']) {
      if (!emulated) {
        paths[tool] = join(unpacked, tool);
        continue;
      }
      const launcher = await readFile(join(unpacked, tool), 'utf8');
      const wrapper = join(workDir, `emulated-${tool}`);
      // The shipped launcher as it is, its program started by qemu.
      await writeFile(wrapper, launcher.replace(/^d=.*$/m, `d="${unpacked}"`).replace(/^exec /m, `exec ${QEMU_AARCH64} `));
      await chmod(wrapper, 0o755);
      paths[tool] = wrapper;
    }
    // Emulation costs address space: qemu's own, beside the guest's.
    tools = { ffprobePath: paths.ffprobe!, ffmpegPath: paths.ffmpeg!, toolSeconds: 600, toolMemoryMiB: emulated ? 4096 : 1024 };
    clip = join(workDir, 'phone.mp4');
    await writeFile(clip, await phoneClip(workDir, 'mp4', 1));
  }, 900_000);

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('ships under 120 MB packed, and the launcher runs Debian 5.1 programs with nothing but their own libraries', async () => {
    expect((await stat(archive)).size).toBeLessThan(120 * 1024 * 1024);
    const { stdout } = await exec(tools.ffmpegPath, ['-hide_banner', '-version'], { env: {} });
    expect(stdout).toMatch(/^ffmpeg version 5\.1\.\d+-0\+deb12u\d+/);
    expect(stdout).toContain('--toolchain=hardened');
    const { stdout: probe } = await exec(tools.ffprobePath, ['-hide_banner', '-version'], { env: {} });
    expect(probe).toMatch(/^ffprobe version 5\.1\.\d+-0\+deb12u\d+/);
  });

  it("probes, remuxes without the location and takes the poster of a phone's MP4 through the service's own calls", async () => {
    const probed = await probeVideo(clip, 'video/mp4', tools, { maxBytes: 1024 ** 3, maxSeconds: 600 });
    expect(probed.container).toBe('mp4');
    expect(probed.videoCodec).toBe('h264');
    const clean = join(workDir, 'clean.mp4');
    await remuxVideo(clip, clean, probed, tools);
    expect((await readFile(clean)).includes(Buffer.from(LOCATION))).toBe(false);
    const poster = await sharp(await posterFrame(clean, probed, tools)).metadata();
    expect([poster.width, poster.height].sort()).toEqual([360, 640]);
  });
});
