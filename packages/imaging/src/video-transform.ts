import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import * as z from 'zod/mini';
import { REJECTION_CODES } from '@media/core';
import { isUploadRejected, UploadRejected } from './rejection';
import { posterFrame, probeVideo, remuxVideo, sha256OfFile, type ProbedVideo, type VideoLimits } from './video';
import type { VideoTools } from './video-tool';
import { shippedVideoTools } from './video-tools-archive';

/**
 * What the video transform is handed: presigned URLs only. It reads the one upload and writes its
 * two outputs to scratch keys, with the rights of whoever signed, and holds no right of its own.
 */
export const VideoTransformRequest = z.object({
  /** A presigned GET of the upload (or of the clean original an earlier attempt stored). */
  source: z.url(),
  declaredType: z.string().check(z.minLength(1), z.maxLength(255)),
  /** The declared size: a larger object is refused without reading on. */
  declaredSize: z.int().check(z.positive()),
  /** Presigned PUTs: the clean copy, and the poster frame as PNG. */
  clean: z.url(),
  poster: z.url(),
});
export type VideoTransformRequest = z.infer<typeof VideoTransformRequest>;

const count = z.int().check(z.nonnegative());
const positiveInt = () => z.int().check(z.positive());

export const ProbedVideoSchema = z.object({
  container: z.enum(['mp4', 'mov', 'webm']),
  videoIndex: count,
  audioIndex: z.nullable(count),
  videoCodec: z.string().check(z.minLength(1)),
  audioCodec: z.nullable(z.string().check(z.minLength(1))),
  durationSeconds: z.number().check(z.positive()),
  codedWidth: positiveInt(),
  codedHeight: positiveInt(),
  width: positiveInt(),
  height: positiveInt(),
  rotation: z.int(),
}) satisfies z.ZodMiniType<ProbedVideo>;

/** The transform's answer, plain JSON: the caller checks it with this schema before believing it. */
export const VideoTransformAnswer = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('transformed'),
    probe: ProbedVideoSchema,
    uploadSha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
    cleanSize: positiveInt(),
    posterSize: positiveInt(),
  }),
  z.object({ outcome: z.literal('rejected'), code: z.enum(REJECTION_CODES), message: z.string().check(z.maxLength(1000)) }),
]);
export type VideoTransformAnswer = z.infer<typeof VideoTransformAnswer>;

export interface VideoTransformOptions {
  tools: VideoTools;
  limits: VideoLimits;
  /** How long the work may take at most: its scratch folder is anyone's to remove after that. */
  deadlineMs: number;
}

/** Scratch folders are named for the moment their work must be over: `media-video-<ms>-XXXXXX`. */
const SCRATCH = /^media-video-(\d+)-/;

/**
 * A run stopped by its function's time limit never reaches its `finally`, and Lambda keeps /tmp
 * for the next invocation: folders whose time is over go before a new one is made. Only those: the
 * local stack and the tests run several transforms in one machine.
 */
async function removeAbandonedScratch(): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const ends = Number(SCRATCH.exec(name)?.[1]);
    if (ends && ends < now) await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * A video checked and made clean with least power: fetched from its presigned GET into a scratch
 * folder (streamed, never held in memory, never more than its declared size), probed, remuxed
 * without its metadata, its poster frame taken, and both outputs PUT to their presigned URLs. What
 * the bytes cause is answered as a rejection; what is ours or the network's (a URL refused, a tool
 * that cannot start) is thrown, so the caller tries again.
 */
export async function transformVideo(request: VideoTransformRequest, options: VideoTransformOptions): Promise<VideoTransformAnswer> {
  await removeAbandonedScratch();
  const scratch = await mkdtemp(join(tmpdir(), `media-video-${options.deadlineMs}-`));
  try {
    const input = join(scratch, 'upload');
    await download(request.source, input, request.declaredSize);
    const tools = await shippedVideoTools(options.tools);
    const probe = await probeVideo(input, request.declaredType, tools, options.limits);
    const clean = join(scratch, 'clean');
    await remuxVideo(input, clean, probe, tools);
    const poster = await posterFrame(clean, probe, tools);
    const uploadSha256 = await sha256OfFile(input);
    await upload(request.clean, await openAsBlob(clean));
    await upload(request.poster, new Blob([new Uint8Array(poster)]));
    return { outcome: 'transformed', probe, uploadSha256, cleanSize: (await stat(clean)).size, posterSize: poster.length };
  } catch (error) {
    if (isUploadRejected(error)) return { outcome: 'rejected', code: error.code, message: error.message };
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function download(url: string, path: string, declaredSize: number): Promise<void> {
  const response = await fetch(url);
  if (!response.ok || !response.body) throw new Error(`the upload could not be read (GET answered ${response.status})`);
  let received = 0;
  // Counted as it arrives: an object larger than declared is refused before it fills the disk.
  const bounded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > declaredSize) {
        done(new UploadRejected('SIZE_MISMATCH', `The file is more than the ${declaredSize} bytes declared.`));
        return;
      }
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), bounded, createWriteStream(path));
}

async function upload(url: string, body: Blob): Promise<void> {
  // A Blob has a known length: S3 takes a PUT with Content-Length, never a chunked one.
  const response = await fetch(url, { method: 'PUT', body });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`an output could not be written (PUT answered ${response.status})`);
}
