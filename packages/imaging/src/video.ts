import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { UploadRejected } from './rejection';
import { runVideoTool, type VideoTools } from './video-tool';

export { runVideoTool, type VideoTools } from './video-tool';

export interface VideoLimits {
  maxBytes: number;
  maxSeconds: number;
}

/** What the bytes say a video is: only this is believed, never the name or the declared type. */
export interface ProbedVideo {
  container: 'mp4' | 'mov' | 'webm';
  /** The input stream index of the one video stream checked: the remux maps exactly this one. */
  videoIndex: number;
  /** The one audio stream kept, if any, by input index. */
  audioIndex: number | null;
  videoCodec: string;
  audioCodec: string | null;
  durationSeconds: number;
  /** As stored (before the rotation): what the clean copy's probe must find again. */
  codedWidth: number;
  codedHeight: number;
  /** As displayed: the stored frame's sides swapped when the rotation is a quarter turn. */
  width: number;
  height: number;
  /** Degrees, from the display matrix; kept in the stored original. */
  rotation: number;
}

/** Codecs a browser or phone plays without our transcoding them (there is no transcoding). */
const VIDEO_CODECS = ['h264', 'hevc', 'vp9', 'av1'];
const AUDIO_CODECS = ['aac', 'opus'];
/**
 * The decoders ffprobe may open. MJPEG and PNG only so that cover art (a still picture flagged
 * `attached_pic`) can be told apart from a video track in those codecs, which is refused.
 */
const PROBE_CODECS = [...VIDEO_CODECS, ...AUDIO_CODECS, 'mjpeg', 'png'];
/** WebM allows only these (the Matroska family would take anything). */
const WEBM_CODECS = ['vp9', 'av1', 'opus'];
/** 8K UHD: larger frames are not phone video. */
const MAX_PIXELS = 7680 * 4320;
/** Phones film at most 240 frames a second (slow motion). */
const MAX_FRAME_RATE = 240;
/** Pixels decoded per second of 8K at 60 fps: the most a real clip asks of a decoder. */
const MAX_PIXEL_RATE = MAX_PIXELS * 60;
/** AAC frames carry 1024 samples, Opus packets 2.5 ms at least: 400 packets a second is the ceiling. */
const MAX_AUDIO_PACKET_RATE = 400;
const MAX_SAMPLE_RATE = 192_000;
const MAX_CHANNELS = 8;
/** Streams a demuxer may create: a phone's clip has a handful (video, audio, metadata tracks). */
const MAX_STREAMS = 16;

const CONTAINERS: Record<string, ProbedVideo['container']> = { 'video/mp4': 'mp4', 'video/quicktime': 'mov', 'video/webm': 'webm' };

/**
 * The only demuxer a file may be read with, chosen from the declared type (never guessed from the
 * bytes: a guess is how a playlist or a concat script gets opened), the only protocol (the file
 * itself), bounded probing, and no picture larger than any accepted frame.
 */
function inputOptions(container: ProbedVideo['container'], codecs: string[]): string[] {
  const demuxer = container === 'webm' ? 'matroska' : 'mov';
  return [
    '-protocol_whitelist',
    'file',
    '-format_whitelist',
    demuxer,
    '-codec_whitelist',
    codecs.join(','),
    '-probesize',
    String(10 * 1024 * 1024),
    '-analyzeduration',
    String(10_000_000),
    '-max_streams',
    String(MAX_STREAMS),
    // No decoder allocates a picture larger than 8K: a tiny file declaring a huge frame fails here.
    '-max_pixels',
    String(MAX_PIXELS),
    '-f',
    demuxer,
  ];
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_rate?: string;
  channels?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
}

interface ProbeJson {
  format?: { format_name?: string; duration?: string; tags?: Record<string, string> };
  streams?: ProbeStream[];
}

async function ffprobe(
  path: string,
  container: ProbedVideo['container'],
  tools: VideoTools,
  codecs: string[],
  step: string,
): Promise<ProbeJson> {
  const stdout = await runVideoTool(
    tools,
    tools.ffprobePath,
    ['-v', 'error', ...inputOptions(container, codecs), '-print_format', 'json', '-show_format', '-show_streams', '-i', `file:${path}`],
    { step, encoding: 'utf8', maxBuffer: 4 * 1024 * 1024, timeoutSeconds: Math.min(60, tools.toolSeconds) },
  );
  try {
    return JSON.parse(stdout) as ProbeJson;
  } catch {
    throw new UploadRejected('CORRUPT_VIDEO', `The video cannot be read (${step} gave no answer).`);
  }
}

const rate = (fraction: string | undefined): number => {
  const [n, d] = (fraction ?? '0/0').split('/').map(Number);
  return n && d ? n / d : 0;
};

/**
 * Reads a video file with ffprobe and checks it against what the service accepts: an MP4/QuickTime
 * or WebM container as declared, exactly one H.264/HEVC/VP9/AV1 video stream (cover art aside),
 * AAC or Opus audio if any, a duration within the limit, a frame of sane size, and frame and packet
 * counts a real clip of that length and size could have. Anything else is rejected with a code.
 */
export async function probeVideo(path: string, declaredType: string, tools: VideoTools, limits: VideoLimits): Promise<ProbedVideo> {
  const { size } = await stat(path);
  if (size === 0) throw new UploadRejected('EMPTY_FILE', 'The file is empty.');
  if (size > limits.maxBytes) throw new UploadRejected('FILE_TOO_LARGE', `The video is ${size} bytes; the limit is ${limits.maxBytes}.`);
  const declared = CONTAINERS[declaredType];
  if (!declared) throw new UploadRejected('UNSUPPORTED_MEDIA_TYPE', `${declaredType} is not a video type the service accepts.`);

  // The demuxer is forced from the declared type: a file of another container fails to open here.
  const probe = await ffprobe(path, declared, tools, PROBE_CODECS, 'probe');
  const formats = (probe.format?.format_name ?? '').split(',');
  const found =
    formats.includes('mov') || formats.includes('mp4')
      ? 'mov-family'
      : formats.includes('webm') || formats.includes('matroska')
        ? 'webm'
        : null;
  if (!found || (found === 'webm') !== (declared === 'webm')) {
    throw new UploadRejected('TYPE_MISMATCH', `The file is not ${declared === 'webm' ? 'a WebM' : 'an MP4/QuickTime'} video as declared.`);
  }

  const streams = probe.streams ?? [];
  // Cover art is a still picture beside the video, flagged as such; it is left out of the copy.
  const tracks = streams.filter((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  const stills = tracks.filter((s) => s.codec_name === 'mjpeg' || s.codec_name === 'png');
  if (stills.length > 0) {
    // A track of JPEG or PNG frames carries each frame's own metadata (EXIF GPS, owner) through a copy.
    throw new UploadRejected(
      'UNSUPPORTED_CODEC',
      `The video holds a track coded as ${stills[0]!.codec_name}; accepted: ${VIDEO_CODECS.join(', ')}.`,
    );
  }
  const video = tracks[0];
  if (!video?.width || !video.height) throw new UploadRejected('CORRUPT_VIDEO', 'The file has no video stream.');
  if (tracks.length > 1)
    throw new UploadRejected('UNSUPPORTED_CONTAINER', `The file holds ${tracks.length} video tracks; one is accepted.`);
  if (!VIDEO_CODECS.includes(video.codec_name ?? '')) {
    throw new UploadRejected('UNSUPPORTED_CODEC', `Video coded as ${video.codec_name}; accepted: ${VIDEO_CODECS.join(', ')}.`);
  }
  const sound = streams.find((s) => s.codec_type === 'audio');
  if (sound && !AUDIO_CODECS.includes(sound.codec_name ?? '')) {
    throw new UploadRejected('UNSUPPORTED_CODEC', `Audio coded as ${sound.codec_name}; accepted: ${AUDIO_CODECS.join(', ')}.`);
  }
  if (declared === 'webm' && ![video, sound].every((s) => !s || WEBM_CODECS.includes(s.codec_name ?? ''))) {
    throw new UploadRejected('UNSUPPORTED_CONTAINER', 'A WebM video holds VP9 or AV1 video and Opus audio only.');
  }
  if (video.width * video.height > MAX_PIXELS) {
    throw new UploadRejected('IMAGE_TOO_LARGE', `The video's frame is ${video.width} × ${video.height}; at most ${MAX_PIXELS} pixels.`);
  }
  const durationSeconds = Number(probe.format?.duration);
  if (!Number.isFinite(durationSeconds) || durationSeconds <= 0) throw new UploadRejected('CORRUPT_VIDEO', 'The video has no duration.');
  if (durationSeconds > limits.maxSeconds) {
    throw new UploadRejected('VIDEO_TOO_LONG', `The video lasts ${Math.round(durationSeconds)} s; at most ${limits.maxSeconds} s.`);
  }
  checkWorkload(video, sound, durationSeconds, size);

  const rotation = Math.round(
    video.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation ?? Number(video.tags?.rotate ?? 0),
  );
  const quarter = Math.abs(rotation) % 180 === 90;
  return {
    container: declared,
    videoIndex: video.index,
    audioIndex: sound?.index ?? null,
    videoCodec: video.codec_name!,
    audioCodec: sound?.codec_name ?? null,
    durationSeconds,
    codedWidth: video.width,
    codedHeight: video.height,
    width: quarter ? video.height : video.width,
    height: quarter ? video.width : video.height,
    rotation,
  };
}

/**
 * What decoding the clip would cost, from its index, against what a real clip of this length and
 * size can hold: ~40,000 tiny 4K frames in 4 MB last hours to decode but only seconds to play.
 * The container's counts are what a decoder would be handed, so they are the ones checked.
 */
function checkWorkload(video: ProbeStream, sound: ProbeStream | undefined, durationSeconds: number, size: number): void {
  const tooComplex = (what: string) => new UploadRejected('VIDEO_TOO_COMPLEX', `The video's ${what} is not that of a real clip.`);
  const frameRate = Math.max(rate(video.avg_frame_rate), rate(video.r_frame_rate));
  if (frameRate > MAX_FRAME_RATE) throw tooComplex(`frame rate (${Math.round(frameRate)} per second)`);
  const pixels = video.width! * video.height!;
  if (pixels * frameRate > MAX_PIXEL_RATE) throw tooComplex('frame size at its frame rate');
  // One second of slack: a clip's last frame may start just before its end.
  const frames = Number(video.nb_frames ?? 0);
  if (frames > MAX_FRAME_RATE * (durationSeconds + 1)) throw tooComplex(`frame count (${frames} in ${durationSeconds.toFixed(1)} s)`);
  if (frames * pixels > MAX_PIXEL_RATE * (durationSeconds + 1)) throw tooComplex(`frame count at its frame size`);
  if (sound) {
    const packets = Number(sound.nb_frames ?? 0);
    if (packets > MAX_AUDIO_PACKET_RATE * (durationSeconds + 1)) throw tooComplex(`audio packet count (${packets})`);
    if (Number(sound.sample_rate ?? 0) > MAX_SAMPLE_RATE || (sound.channels ?? 0) > MAX_CHANNELS) throw tooComplex('audio format');
  }
  // Every sample the index lists takes a byte at least: an index longer than the file is a lie.
  if (frames + Number(sound?.nb_frames ?? 0) > size) throw tooComplex('sample count for its size');
}

const MUXERS: Record<ProbedVideo['container'], string[]> = {
  // Index first (faststart): a browser plays from the first bytes it gets.
  mp4: ['-movflags', '+faststart', '-f', 'mp4'],
  mov: ['-movflags', '+faststart', '-f', 'mov'],
  webm: ['-f', 'webm'],
};

/**
 * The stored original: exactly the video stream that was checked and the one audio stream, by
 * their input index, copied as they are (no re-encoding); every other stream (cover art, iPhone
 * metadata tracks, timecode) and all metadata left out — global, per stream, chapters, the muxer's
 * own "encoder" tag — so no GPS or location atom, no device or user data. The display matrix is
 * stream side data, not metadata: the rotation stays. The copy is probed again before it is kept.
 */
export async function remuxVideo(input: string, output: string, probed: ProbedVideo, tools: VideoTools): Promise<void> {
  const codecs = [probed.videoCodec, ...(probed.audioCodec ? [probed.audioCodec] : [])];
  await runVideoTool(
    tools,
    tools.ffmpegPath,
    [
      '-v',
      'error',
      '-nostdin',
      '-y',
      ...inputOptions(probed.container, codecs),
      '-i',
      `file:${input}`,
      '-map',
      `0:${probed.videoIndex}`,
      ...(probed.audioIndex === null ? [] : ['-map', `0:${probed.audioIndex}`]),
      '-c',
      'copy',
      '-map_metadata',
      '-1',
      '-map_metadata:s:v',
      '-1',
      '-map_metadata:s:a',
      '-1',
      '-map_chapters',
      '-1',
      '-fflags',
      '+bitexact',
      '-flags:v',
      '+bitexact',
      '-flags:a',
      '+bitexact',
      ...MUXERS[probed.container],
      `file:${output}`,
    ],
    { step: 'remux', encoding: 'utf8', timeoutSeconds: tools.toolSeconds, maxBuffer: 1024 * 1024 },
  );
  await checkCleanCopy(output, probed, tools);
}

/**
 * Tags a muxer writes by itself about the container and its tracks, naming nobody. Matroska's
 * header must name the muxing application: with `bitexact` it is the bare "Lavf".
 */
const STRUCTURAL_FORMAT_TAGS: Record<string, (value: string) => boolean> = {
  major_brand: () => true,
  minor_version: () => true,
  compatible_brands: () => true,
  encoder: (value) => value === 'Lavf',
};
const STRUCTURAL_STREAM_TAGS = ['handler_name', 'vendor_id', 'language', 'DURATION'];

/** What is stored is what was checked: one video stream as checked, the audio if any, no tags. */
async function checkCleanCopy(output: string, probed: ProbedVideo, tools: VideoTools): Promise<void> {
  const codecs = [probed.videoCodec, ...(probed.audioCodec ? [probed.audioCodec] : [])];
  const copy = await ffprobe(output, probed.container, tools, codecs, 'probe of the clean copy');
  const streams = copy.streams ?? [];
  const [video, ...rest] = streams;
  const expected = probed.audioCodec ? 1 : 0;
  const fine =
    video?.codec_type === 'video' &&
    video.codec_name === probed.videoCodec &&
    video.width === probed.codedWidth &&
    video.height === probed.codedHeight &&
    rest.length === expected &&
    rest.every((s) => s.codec_type === 'audio' && s.codec_name === probed.audioCodec) &&
    Object.entries(copy.format?.tags ?? {}).every(([tag, value]) => STRUCTURAL_FORMAT_TAGS[tag]?.(value) === true) &&
    streams.every((s) => Object.keys(s.tags ?? {}).every((t) => STRUCTURAL_STREAM_TAGS.includes(t)));
  if (!fine) throw new UploadRejected('CORRUPT_VIDEO', 'The video cannot be stored as it was checked.');
}

/**
 * A poster frame as PNG, upright: the first keyframe, decoded alone (`-skip_frame nokey`: the
 * decoder never works through the frames that depend on it, however many there are), one thread.
 */
export async function posterFrame(input: string, probed: ProbedVideo, tools: VideoTools): Promise<Buffer> {
  const stdout = await runVideoTool(
    tools,
    tools.ffmpegPath,
    [
      '-v',
      'error',
      '-nostdin',
      '-threads',
      '1',
      '-skip_frame',
      'nokey',
      ...inputOptions(probed.container, [probed.videoCodec]),
      '-i',
      `file:${input}`,
      '-map',
      '0:v:0',
      '-frames:v',
      '1',
      '-map_metadata',
      '-1',
      '-f',
      'image2pipe',
      '-c:v',
      'png',
      'pipe:1',
    ],
    // A PNG of an 8K frame fits easily; more is not a frame.
    { step: 'poster frame', encoding: 'buffer', timeoutSeconds: Math.min(60, tools.toolSeconds), maxBuffer: 256 * 1024 * 1024 },
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
