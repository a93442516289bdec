import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { purposePolicy, type DownloadAnswer, type MediaRecord, type UploadTicket } from '@media/core';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCATION, phoneClip } from '../fixtures/videos';
import { uniqueTenant } from '../support/database';
import { startTestStack, type TestStack } from '../support/test-stack';

const exec = promisify(execFile);
interface Probe {
  format: { format_name: string; duration: string; tags?: Record<string, string> };
  streams: {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
    tags?: Record<string, string>;
    side_data_list?: { rotation?: number }[];
  }[];
}

/**
 * Videos end to end: what a phone films is accepted, stored without its metadata (and without
 * re-encoding), shown by a poster frame; what is not a video, or too long, is rejected.
 */
describe('video uploads', () => {
  let stack: TestStack;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    stack = await startTestStack({ env: { MEDIA_VIDEO_MAX_SECONDS: '5' } });
    dir = await mkdtemp(join(tmpdir(), 'media-video-test-'));
    token = await stack.token({ role: 'teacher', tenant: uniqueTenant(), sub: 't-1', classrooms: ['c-1'] });
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function upload(bytes: Buffer, contentType: string, filename: string): Promise<MediaRecord> {
    const requested = await stack.api<UploadTicket>('POST', '/v1/uploads', {
      token,
      body: { purpose: 'general', contentType, size: bytes.length, filename },
    });
    expect(requested.status, JSON.stringify(requested.json)).toBe(201);
    expect((await stack.postToS3(requested.json.upload, bytes, contentType, filename)).status).toBe(204);
    return stack.waitForStatus(requested.json.mediaId, token, ['ready', 'rejected'], 60_000);
  }

  async function download(id: string, variant: string): Promise<Buffer> {
    const link = await stack.api<DownloadAnswer>('GET', `/v1/media/${id}/download?variant=${variant}`, { token });
    expect(link.status).toBe(200);
    return Buffer.from(await (await fetch(link.json.url)).arrayBuffer());
  }

  async function probe(bytes: Buffer, name: string): Promise<Probe> {
    const file = join(dir, name);
    await writeFile(file, bytes);
    const { stdout } = await exec('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
    return JSON.parse(stdout) as Probe;
  }

  it.each([
    ['mp4', 'video/mp4'],
    ['mov', 'video/quicktime'],
  ] as const)(
    'a phone-like %s with location metadata ends ready: a clean remuxed original, rotation kept, poster variants',
    async (container, contentType) => {
      const clip = await phoneClip(dir, container, 3);
      expect(clip.includes(LOCATION), 'the upload carries the location').toBe(true);

      const record = await upload(clip, contentType, `clip.${container}`);
      expect(record).toMatchObject({ status: 'ready', kind: 'video', contentType, width: 360, height: 640 });
      expect(record.durationSeconds).toBeCloseTo(3, 0);
      expect(record.variants.map((v) => v.name)).toEqual(['original', 'thumb', 'small', 'medium', 'large']);

      const original = await download(record.id, 'original');
      expect(original.length).toBe(record.size);
      for (const secret of [LOCATION, 'iPhone', 'Apple', 'school gate', 'Lavf']) {
        expect(original.includes(secret), `the original contains "${secret}"`).toBe(false);
      }
      const probed = await probe(original, `original.${container}`);
      const structural = ['major_brand', 'minor_version', 'compatible_brands'];
      expect(
        Object.keys(probed.format.tags ?? {}).filter((tag) => !structural.includes(tag)),
        'container tags',
      ).toEqual([]);
      expect(probed.streams.map((s) => s.codec_name)).toEqual(['h264', 'aac']);
      for (const stream of probed.streams) {
        expect(
          Object.keys(stream.tags ?? {}).filter((tag) => !['handler_name', 'vendor_id', 'language'].includes(tag)),
          `${stream.codec_type} tags`,
        ).toEqual([]);
      }
      expect(Math.abs(probed.streams[0]!.side_data_list?.[0]?.rotation ?? 0), 'rotation kept').toBe(90);
      // faststart: the index comes before the media data.
      expect(original.indexOf('moov')).toBeLessThan(original.indexOf('mdat'));
      // Not re-encoded: the stored video and audio packets are those uploaded, bit for bit.
      const packets = async (bytes: Buffer, name: string) => {
        const file = join(dir, name);
        await writeFile(file, bytes);
        return (
          await exec('ffmpeg', [
            '-v',
            'error',
            '-i',
            file,
            '-map',
            '0:v:0',
            '-map',
            '0:a:0',
            '-c',
            'copy',
            '-f',
            'streamhash',
            '-hash',
            'md5',
            '-',
          ])
        ).stdout;
      };
      expect(await packets(original, `stored.${container}`)).toBe(await packets(clip, `uploaded.${container}`));

      const thumb = await sharp(await download(record.id, 'thumb')).metadata();
      expect({ format: thumb.format, width: thumb.width, height: thumb.height }).toEqual({ format: 'webp', width: 256, height: 256 });
      const medium = await sharp(await download(record.id, 'medium')).metadata();
      expect({ width: medium.width, height: medium.height }, 'the poster is upright').toEqual({ width: 360, height: 640 });
    },
  );

  it('stores a video’s poster derivatives with the headers of a photo’s derivatives, and its original without a Cache-Control', async () => {
    const video = await upload(await phoneClip(dir, 'mp4', 2), 'video/mp4', 'poster.mp4');
    const photoBytes = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#36c' } })
      .jpeg()
      .toBuffer();
    const photo = await upload(photoBytes, 'image/jpeg', 'photo.jpg');
    expect([video.status, photo.status]).toEqual(['ready', 'ready']);

    const { storage } = stack.deps;
    const stored = async (id: string, name: string) => {
      const row = (await stack.deps.media.findById(id))!;
      const key = name === 'original' ? row.originalKey! : row.variants.find((v) => v.name === name)!.key;
      const head = await storage.client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key }));
      return { cacheControl: head.CacheControl, contentType: head.ContentType };
    };
    const cacheControl = `private, max-age=${purposePolicy('general').downloadTtlSeconds}, immutable`;
    for (const name of ['thumb', 'small', 'medium', 'large']) {
      expect(await stored(video.id, name), `the poster's ${name}`).toEqual({ cacheControl, contentType: 'image/webp' });
      expect(await stored(video.id, name), `the poster's ${name} against the photo's`).toEqual(await stored(photo.id, name));
    }
    expect(await stored(video.id, 'original')).toEqual({ cacheControl: undefined, contentType: 'video/mp4' });
  });

  it('a WebM clip (VP9 and Opus) with a title and a location ends ready, its original without them', async () => {
    const file = join(dir, 'screen.webm');
    await exec('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=320x240:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
      '-t',
      '2',
      '-c:v',
      'libvpx-vp9',
      '-deadline',
      'realtime',
      '-cpu-used',
      '8',
      '-c:a',
      'libopus',
      '-metadata',
      'title=Lea and Tom, class 3b',
      '-metadata',
      `location=${LOCATION}`,
      file,
    ]);
    const clip = await readFile(file);
    expect(clip.includes('class 3b')).toBe(true);
    const record = await upload(clip, 'video/webm', 'screen.webm');
    expect(record).toMatchObject({ status: 'ready', kind: 'video', width: 320, height: 240 });
    const original = await download(record.id, 'original');
    expect(original.includes('class 3b') || original.includes(LOCATION)).toBe(false);
    const probed = await probe(original, 'original.webm');
    expect(probed.streams.map((s) => s.codec_name)).toEqual(['vp9', 'opus']);
  });

  it('rejects a file that is not a video, renamed .mp4', async () => {
    const photo = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#f00' } })
      .jpeg()
      .toBuffer();
    const notes = Buffer.from('These are not the frames you are looking for.\n'.repeat(100));
    for (const bytes of [photo, notes]) {
      const record = await upload(bytes, 'video/mp4', 'holiday.mp4');
      expect(record.status).toBe('rejected');
      expect(['TYPE_MISMATCH', 'CORRUPT_VIDEO']).toContain(record.rejection?.code);
      expect(record.variants).toEqual([]);
    }
  });

  it('rejects a clip longer than MEDIA_VIDEO_MAX_SECONDS', async () => {
    const clip = await phoneClip(dir, 'mp4', 7, '160x120');
    const record = await upload(clip, 'video/mp4', 'long.mp4');
    expect(record).toMatchObject({ status: 'rejected', rejection: { code: 'VIDEO_TOO_LONG' } });
  });
});
