import { execFile } from 'node:child_process';
import { UploadRejected } from './rejection';

/** The tools, by path: Debian's ffmpeg locally and in CI, a pinned arm64 build beside the Lambda bundle. */
export interface VideoTools {
  ffprobePath: string;
  ffmpegPath: string;
  /** Lambda: the pinned build as one archive, unpacked on first use (`shippedVideoTools`); the paths above are then ignored. */
  archive?: string;
  /** Wall-clock ceiling of one run; probing and the poster frame take at most 60 s of it. */
  toolSeconds: number;
  /** Address space of one run (RLIMIT_AS): what a hostile file can make a parser allocate. */
  toolMemoryMiB: number;
}

export interface ToolRun {
  /** What the run does, for the rejection's message (never a file name: messages reach consumers). */
  step: string;
  timeoutSeconds: number;
  maxBuffer: number;
}

/** A parser that ran out of its memory says so one of these ways, then exits non-zero or aborts. */
const OUT_OF_MEMORY = /cannot allocate memory|out of memory|memory exhausted|std::bad_alloc/i;
/** A codec outside `-codec_whitelist`: the file holds a stream the service does not accept. */
const NOT_WHITELISTED = /Codec \(([a-z0-9_]+)\) not on whitelist/i;

/**
 * Runs ffprobe or ffmpeg on an upload with least power: an empty environment (no cloud
 * credentials, no proxy or library settings), under limits on memory and CPU time set by the shell
 * right before it becomes the tool (`ulimit`: Lambda's image has no prlimit), and killed outright
 * at its wall-clock ceiling. What the bytes cause is a rejection, never a retry: a kill, a signal,
 * running out of memory or output is `VIDEO_TOO_COMPLEX`; any other failure `CORRUPT_VIDEO`. Only
 * a tool that cannot be started at all is our fault, and thrown.
 */
export function runVideoTool(tools: VideoTools, tool: string, args: string[], run: ToolRun & { encoding: 'buffer' }): Promise<Buffer>;
export function runVideoTool(tools: VideoTools, tool: string, args: string[], run: ToolRun & { encoding: 'utf8' }): Promise<string>;
export function runVideoTool(
  tools: VideoTools,
  tool: string,
  args: string[],
  run: ToolRun & { encoding: 'buffer' | 'utf8' },
): Promise<Buffer | string> {
  const memoryKiB = tools.toolMemoryMiB * 1024;
  // CPU seconds: twice the wall-clock ceiling, as a backstop should the timer not fire (two threads at most).
  const cpuSeconds = Math.max(1, 2 * run.timeoutSeconds);
  return new Promise((resolve, reject) => {
    execFile(
      '/bin/sh',
      [
        '-c',
        'ulimit -v "$1" && ulimit -t "$2" && shift 2 && exec "$@"',
        'video-tool',
        String(memoryKiB),
        String(cpuSeconds),
        tool,
        ...args,
      ],
      {
        env: {},
        timeout: run.timeoutSeconds * 1000,
        killSignal: 'SIGKILL',
        maxBuffer: run.maxBuffer,
        encoding: run.encoding,
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        reject(classify(error, String(stderr), run.step));
      },
    );
  });
}

function classify(error: Error, stderr: string, step: string): Error {
  // An exit status is a number in `code`, a spawn failure a string such as ENOENT.
  const e = error as Error & { killed?: boolean; signal?: NodeJS.Signals | null; code?: string | number };
  // 126/127: the shell could not run the tool (missing, not executable): ours to fix, so retried.
  if (e.code === 127 || e.code === 126 || e.code === 'ENOENT')
    return new Error(`the video tool for ${step} cannot be started`, { cause: error });
  if (e.killed || e.signal) {
    return new UploadRejected('VIDEO_TOO_COMPLEX', `The video takes too much work to check (${step} stopped at its limit).`);
  }
  if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER' || OUT_OF_MEMORY.test(stderr)) {
    return new UploadRejected('VIDEO_TOO_COMPLEX', `The video takes too much memory to check (${step}).`);
  }
  const codec = NOT_WHITELISTED.exec(stderr)?.[1];
  if (codec)
    return new UploadRejected('UNSUPPORTED_CODEC', `The file holds a stream coded as ${codec}, which the service does not accept.`);
  return new UploadRejected('CORRUPT_VIDEO', `The video cannot be read (${step} failed).`);
}
