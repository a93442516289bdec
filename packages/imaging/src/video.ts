import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { UploadRejected } from './rejection';

const exec = promisify(execFile);

/** Runs a tool; its failure on these bytes is the bytes' fault (CORRUPT_VIDEO), a missing tool is ours. */
async function run(file: string, args: string[], options: { timeout: number; maxBuffer: number }): Promise<string> {
  return refusedOnFailure(file, async () => (await exec(file, args, { ...options, encoding: 'utf8' })).stdout);
}

async function runForBytes(file: string, args: string[], options: { timeout: number; maxBuffer: number }): Promise<Buffer> {
  return refusedOnFailure(file, async () => (await exec(file, args, { ...options, encoding: 'buffer' })).stdout);
}

async function refusedOnFailure<T>(file: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { killed?: boolean };
    if (e.code === 'ENOENT' || e.killed) throw error;
    throw new UploadRejected('CORRUPT_VIDEO', `The video cannot be read (${file.split('/').pop()} failed).`);
  }
}

/** The tools, by path: Debian's ffmpeg locally and in CI, a static arm64 build beside the Lambda bundle. */
export interface VideoTools {
  ffprobePath: string;
  ffmpegPath: string;
}

export interface VideoLimits {
  maxBytes: number;
  maxSeconds: number;
}

/** What the bytes say a video is: only this is believed, never the name or the declared type. */
export interface ProbedVideo {
  container: 'mp4' | 'mov' | 'webm';
  videoCodec: string;
  audioCodec: string | null;
  durationSeconds: number;
  /** As displayed: the stored frame's sides swapped when the rotation is a quarter turn. */
  width: number;
  height: number;
  /** Degrees, from the display matrix; kept in the stored original. */
  rotation: number;
}

/** Codecs a browser or phone plays without our transcoding them (there is no transcoding). */
const VIDEO_CODECS = ['h264', 'hevc', 'vp9', 'av1'];
const AUDIO_CODECS = ['aac', 'opus'];
/** WebM allows only these (the Matroska family would take anything). */
const WEBM_CODECS = ['vp9', 'av1', 'opus'];
/** 8K UHD: larger frames are not phone video. */
const MAX_PIXELS = 7680 * 4320;

const CONTAINERS: Record<string, ProbedVideo['container']> = { 'video/mp4': 'mp4', 'video/quicktime': 'mov', 'video/webm': 'webm' };

interface ProbeJson {
  format?: { format_name?: string; duration?: string };
  streams?: {
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    tags?: Record<string, string>;
    side_data_list?: { rotation?: number }[];
  }[];
}

/**
 * Reads a video file with ffprobe and checks it against what the service accepts: an MP4/QuickTime
 * or WebM container as declared, one H.264/HEVC/VP9/AV1 video stream, AAC or Opus audio if any, a
 * duration within the limit, a frame of sane size. Anything else is rejected with a code.
 */
export async function probeVideo(path: string, declaredType: string, tools: VideoTools, limits: VideoLimits): Promise<ProbedVideo> {
  const { size } = await stat(path);
  if (size === 0) throw new UploadRejected('EMPTY_FILE', 'The file is empty.');
  if (size > limits.maxBytes) throw new UploadRejected('FILE_TOO_LARGE', `The video is ${size} bytes; the limit is ${limits.maxBytes}.`);
  const declared = CONTAINERS[declaredType];
  if (!declared) throw new UploadRejected('UNSUPPORTED_MEDIA_TYPE', `${declaredType} is not a video type the service accepts.`);

  const stdout = await run(tools.ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', path], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60_000,
  });
  const probe = JSON.parse(stdout) as ProbeJson;

  const formats = (probe.format?.format_name ?? '').split(',');
  const found = formats.includes('mov') || formats.includes('mp4') ? 'mov-family' : formats.includes('webm') || formats.includes('matroska') ? 'webm' : null;
  if (!found) throw new UploadRejected('TYPE_MISMATCH', `The file is not an MP4, QuickTime or WebM video (${probe.format?.format_name ?? 'unknown'}).`);
  if ((found === 'webm') !== (declared === 'webm')) {
    throw new UploadRejected('TYPE_MISMATCH', `The file is ${found === 'webm' ? 'a WebM' : 'an MP4/QuickTime'} video, declared as ${declaredType}.`);
  }

  const streams = probe.streams ?? [];
  const video = streams.filter((s) => s.codec_type === 'video' && s.codec_name !== 'mjpeg' && s.codec_name !== 'png');
  const audio = streams.filter((s) => s.codec_type === 'audio');
  const first = video[0];
  if (!first || !first.width || !first.height) throw new UploadRejected('CORRUPT_VIDEO', 'The file has no video stream.');
  if (!VIDEO_CODECS.includes(first.codec_name ?? '')) {
    throw new UploadRejected('UNSUPPORTED_CODEC', `Video coded as ${first.codec_name}; accepted: ${VIDEO_CODECS.join(', ')}.`);
  }
  const sound = audio[0];
  if (sound && !AUDIO_CODECS.includes(sound.codec_name ?? '')) {
    throw new UploadRejected('UNSUPPORTED_CODEC', `Audio coded as ${sound.codec_name}; accepted: ${AUDIO_CODECS.join(', ')}.`);
  }
  if (declared === 'webm' && ![first, sound].every((s) => !s || WEBM_CODECS.includes(s.codec_name ?? ''))) {
    throw new UploadRejected('UNSUPPORTED_CONTAINER', 'A WebM video holds VP9 or AV1 video and Opus audio only.');
  }
  if (first.width * first.height > MAX_PIXELS) {
    throw new UploadRejected('IMAGE_TOO_LARGE', `The video's frame is ${first.width} × ${first.height}; at most ${MAX_PIXELS} pixels.`);
  }
  const durationSeconds = Number(probe.format?.duration);
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) throw new UploadRejected('CORRUPT_VIDEO', 'The video has no duration.');
  if (durationSeconds > limits.maxSeconds) {
    throw new UploadRejected('VIDEO_TOO_LONG', `The video lasts ${Math.round(durationSeconds)} s; at most ${limits.maxSeconds} s.`);
  }
  const rotation = Math.round(first.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? Number(first.tags?.rotate ?? 0));
  const quarter = Math.abs(rotation) % 180 === 90;
  return {
    container: declared,
    videoCodec: first.codec_name!,
    audioCodec: sound?.codec_name ?? null,
    durationSeconds,
    width: quarter ? first.height : first.width,
    height: quarter ? first.width : first.height,
    rotation,
  };
}

const MUXERS: Record<ProbedVideo['container'], string[]> = {
  // Index first (faststart): a browser plays from the first bytes it gets.
  mp4: ['-movflags', '+faststart', '-f', 'mp4'],
  mov: ['-movflags', '+faststart', '-f', 'mov'],
  webm: ['-f', 'webm'],
};

/**
 * The stored original: the first video and audio streams copied as they are (no re-encoding),
 * every other stream (iPhone metadata tracks, timecode) and all metadata left out — global, per
 * stream, chapters, the muxer's own "encoder" tag — so no GPS or location atom, no device or user
 * data. The display matrix is stream side data, not metadata: the rotation stays.
 */
export async function remuxVideo(input: string, output: string, probed: ProbedVideo, tools: VideoTools): Promise<void> {
  await run(
    tools.ffmpegPath,
    [
      '-v', 'error', '-y', '-i', input,
      '-map', '0:v:0', '-map', '0:a:0?',
      '-c', 'copy',
      '-map_metadata', '-1', '-map_metadata:s:v', '-1', '-map_metadata:s:a', '-1', '-map_chapters', '-1',
      '-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact',
      ...MUXERS[probed.container],
      output,
    ],
    { timeout: 10 * 60_000, maxBuffer: 1024 * 1024 },
  );
}

/** A poster frame as PNG, upright: about one second in, or the first frame of a shorter clip. */
export async function posterFrame(input: string, probed: ProbedVideo, tools: VideoTools): Promise<Buffer> {
  const at = probed.durationSeconds > 1.5 ? 1 : 0;
  const stdout = await runForBytes(
    tools.ffmpegPath,
    ['-v', 'error', '-ss', String(at), '-i', input, '-frames:v', '1', '-map_metadata', '-1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'],
    { timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
  );
  if (stdout.length === 0) throw new UploadRejected('CORRUPT_VIDEO', 'No frame of the video could be decoded.');
  return stdout;
}

/** SHA-256 of a file, streamed. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
