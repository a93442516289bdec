import type { MediaRecord, UploadTicket } from '@media/core';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryBomb } from '../fixtures/memory-bomb';
import { makePhoto } from '../fixtures/photos';
import { LOCATION, phoneClip } from '../fixtures/videos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';
import { QueueLog } from '../pipeline/support/event-log';
import { isolatedDatabase } from '../pipeline/support/isolated-database';
import { objectsOf } from '../pipeline/support/uploads';
import { sweep } from '@media/service/processing';

const exec = promisify(execFile);

/** What marks a clip the stand-in ffprobe stalls on: its metadata says so. */
const STALL = 'stall-the-probe';
/**
 * The stand-in's limit: ffprobe on an upload may run this long (MEDIA_VIDEO_TOOL_SECONDS, probing
 * takes ≤ 60 s of it). Short, as each stalled clip waits it out; still many times what a photo
 * takes to be claimed on a busy machine (the first test's photo must be taken up inside it) and
 * what the real ffprobe takes on this file's other clips.
 */
const TOOL_SECONDS = 12;
/** A generous ceiling per test: a stall of TOOL_SECONDS, and clips made with ffmpeg on a busy machine. */
const TEST_CEILING_MS = 300_000;

/**
 * Hostile videos: bytes built to stall, exhaust or trick ffprobe and ffmpeg end rejected on their
 * first attempt, nothing of them stored, and neither a photo nor a person's erasure waits for them.
 * ffprobe is a stand-in that runs the real one, except on clips marked to stall, where it
 * outlives its limit as a poison clip would. The file has a database of its own: it runs the sweeper.
 */
describe('hostile videos', () => {
  let database: Awaited<ReturnType<typeof isolatedDatabase>>;
  let stack: TestStack;
  let dir: string;
  let token: string;
  let admin: string;
  let tenant: string;
  let events: QueueLog;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'media-hostile-video-'));
    const standIn = join(dir, 'ffprobe');
    // The last argument is the input (`file:<path>`); the stand-in runs under the same limits and
    // empty environment as the real tool would, so it finds grep and sleep on the shell's default PATH.
    await writeFile(
      standIn,
      `#!/bin/sh\nfor input; do :; done\nif grep -q '${STALL}' "\${input#file:}"; then exec sleep 600; fi\nexec ffprobe "$@"\n`,
    );
    await chmod(standIn, 0o755);
    database = await isolatedDatabase();
    stack = await startTestStack({
      databaseUrl: database.url,
      env: { MEDIA_FFPROBE_PATH: standIn, MEDIA_VIDEO_TOOL_SECONDS: String(TOOL_SECONDS), MEDIA_VIDEO_TOOL_MEMORY_MIB: '768' },
    });
    tenant = uniqueTenant();
    token = await stack.token({ role: 'teacher', tenant, sub: 't-1', classrooms: ['c-1'] });
    admin = await stack.token({ role: 'admin', tenant, sub: 'a-1' });
    events = new QueueLog(stack.sqs, stack.queues.events);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function upload(bytes: Buffer, contentType: string, filename: string): Promise<string> {
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'general', contentType, size: bytes.length, filename },
    });
    expect(requested.status, JSON.stringify(requested.json)).toBe(201);
    expect((await stack.postToS3(requested.json.upload, bytes, contentType, filename)).status).toBe(204);
    return requested.json.mediaId;
  }

  const settled = (id: string) => stack.waitForStatus(id, token, ['ready', 'rejected'], 240_000);
  const row = async (id: string) => (await stack.deps.media.findById(id))!;

  async function expectRefusedAndGone(record: MediaRecord, filename: string) {
    expect(record.status).toBe('rejected');
    expect(record.variants).toEqual([]);
    expect(await objectsOf(stack, tenant, record.id), 'nothing of the upload is kept').toEqual([]);
    // Rejection messages reach consumers' events: never the uploader's file name.
    expect(record.rejection?.detail).not.toContain(filename);
    expect((await row(record.id)).attempts, 'rejected on its first attempt, never retried').toBe(1);
  }

  it(
    'a clip whose probe outlives its limit ends VIDEO_TOO_COMPLEX on its first attempt, and a photo uploaded meanwhile is processed without waiting for it',
    async () => {
      const clip = await phoneClipWith(dir, ['-metadata', `comment=${STALL}`]);
      const video = await upload(clip, 'video/mp4', 'poison.mp4');
      await stack.waitForStatus(video, token, ['processing'], 60_000);

      const photo = await upload(await makePhoto({ width: 800, height: 600 }), 'image/jpeg', 'photo.jpg');
      // Taken up while the video's probe still stalls: a photo queued behind the video would stay
      // pending until the probe's limit ran out. (Its claim takes a poll, far less than the limit.)
      await stack.waitForStatus(photo, token, ['processing', 'ready'], 60_000);
      expect((await row(video)).status, 'the photo did not wait behind the video').toBe('processing');
      expect((await settled(photo)).status).toBe('ready');

      const record = await settled(video);
      expect(record.rejection?.code).toBe('VIDEO_TOO_COMPLEX');
      await expectRefusedAndGone(record, 'poison.mp4');
      const announced = await events.eventsFor(video);
      expect(announced.map((e) => e.type)).toEqual(['media.rejected']);
    },
    TEST_CEILING_MS,
  );

  it(
    'the sweeper forwards a stalled video to its queue instead of running the tools, and an erasure advances in the same run',
    async () => {
      await stack.videoPump.stop();
      const clip = await phoneClipWith(dir, ['-metadata', `comment=${STALL}`]);
      const video = await upload(clip, 'video/mp4', 'late.mp4');
      // Its notification came and went (forwarded to the stopped video queue): it looks lost.
      await stack.deps.db
        .updateTable('media')
        .set({ uploadExpiresAt: new Date(Date.now() - 3_600_000) })
        .where('id', '=', video)
        .execute();
      const erasure = await stack.api<{ erasureId: string }>('POST', '/v1/subjects/child-h1/erasure', { token: admin });
      expect(erasure.status).toBe(202);

      // The erasure's message waits in its (unpolled) queue: the sweeper resumes it as an idle job.
      const report = await sweep(stack.deps, { rightsJobIdleSeconds: 0 });
      expect(report).toMatchObject({ forwarded: 1, processed: 0, rightsJobs: 1 });
      expect((await row(video)).status, 'the sweeper ran no tool on it').toBe('pending');
      const done = await stack.api<{ status: string }>('GET', `/v1/erasures/${erasure.json.erasureId}`, { token: admin });
      expect(done.json.status).toBe('done');

      stack.videoPump.start();
      expect((await settled(video)).rejection?.code).toBe('VIDEO_TOO_COMPLEX');
    },
    TEST_CEILING_MS,
  );

  it(
    'an item claimed more than MEDIA_PROCESSING_MAX_ATTEMPTS times is rejected and announced without another try',
    async () => {
      await stack.videoPump.stop();
      const clip = await phoneClip(dir, 'mp4', 1, '160x120');
      const video = await upload(clip, 'video/mp4', 'crashes-the-worker.mp4');
      // Eight earlier workers claimed it and died (out of memory, out of time) without a word.
      await stack.deps.db.updateTable('media').set({ attempts: stack.config.processing.maxAttempts }).where('id', '=', video).execute();
      stack.videoPump.start();

      const record = await settled(video);
      expect(record.rejection).toEqual({
        code: 'VIDEO_TOO_COMPLEX',
        detail: `The file could not be processed in ${stack.config.processing.maxAttempts} attempts.`,
      });
      expect(await objectsOf(stack, tenant, video)).toEqual([]);
      expect((await events.eventsFor(video)).map((e) => e.type)).toEqual(['media.rejected']);
    },
    TEST_CEILING_MS,
  );

  it(
    'an HLS playlist declared as MP4 is rejected without being followed, nothing stored',
    async () => {
      const secret = join(dir, 'secret.ts');
      await writeFile(secret, 'the processor must never open this file');
      const playlist = Buffer.from(`#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://${secret}\n#EXT-X-ENDLIST\n`);
      const record = await settled(await upload(playlist, 'video/mp4', 'playlist.mp4'));
      expect(record.rejection?.code).toBe('CORRUPT_VIDEO');
      await expectRefusedAndGone(record, 'playlist.mp4');
    },
    TEST_CEILING_MS,
  );

  it(
    'a MOV whose first video track is MJPEG (GPS in its metadata) is refused as UNSUPPORTED_CODEC, not stored with its other track',
    async () => {
      const mjpeg = join(dir, 'mjpeg.mov');
      const h264 = join(dir, 'h264.mov');
      const both = join(dir, 'mjpeg-first.mov');
      const lavfi = ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '1'];
      await exec('ffmpeg', [...lavfi, '-c:v', 'mjpeg', mjpeg]);
      await exec('ffmpeg', [...lavfi, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', h264]);
      await exec('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-i',
        mjpeg,
        '-i',
        h264,
        '-map',
        '0:v',
        '-map',
        '1:v',
        '-c',
        'copy',
        '-metadata',
        `location=${LOCATION}`,
        '-metadata:s:v:0',
        `location=${LOCATION}`,
        '-movflags',
        'use_metadata_tags',
        both,
      ]);
      const bytes = await readFile(both);
      expect(bytes.includes(LOCATION), 'the upload carries the location').toBe(true);
      const record = await settled(await upload(bytes, 'video/quicktime', 'two-tracks.mov'));
      expect(record.rejection?.code).toBe('UNSUPPORTED_CODEC');
      await expectRefusedAndGone(record, 'two-tracks.mov');
    },
    TEST_CEILING_MS,
  );

  it(
    "a memory bomb (a 3 MB MOV whose one frame is a 16000 × 16000 PNG) is refused within the tools' memory, nothing stored",
    async () => {
      const bomb = await memoryBomb();
      expect(bomb.length, 'a 3 MB MOV').toBeGreaterThan(3_000_000);
      expect(bomb.includes(LOCATION), 'the upload carries the location').toBe(true);
      const record = await settled(await upload(bomb, 'video/quicktime', 'bomb.mov'));
      // Decoding it takes 768 MB for the frame alone: no decoder may allocate a picture beyond 8K and
      // the tools' address space is capped, so the frame is never decoded and the PNG track is refused
      // (or, should an allocation fail some other way, the file is too complex).
      expect(['UNSUPPORTED_CODEC', 'VIDEO_TOO_COMPLEX']).toContain(record.rejection?.code);
      await expectRefusedAndGone(record, 'bomb.mov');
    },
    TEST_CEILING_MS,
  );
});

/** A short phone-like clip with extra metadata options (copied as they are, no re-encoding). */
async function phoneClipWith(dir: string, metadata: string[]): Promise<Buffer> {
  const plain = join(dir, 'plain.mp4');
  const marked = join(dir, 'marked.mp4');
  await writeFile(plain, await phoneClip(dir, 'mp4', 1, '160x120'));
  await exec('ffmpeg', ['-v', 'error', '-y', '-i', plain, '-map', '0', '-c', 'copy', ...metadata, marked]);
  return readFile(marked);
}
