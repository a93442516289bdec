import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Purpose } from '../contract-types';
import { isMediaApiError, MediaRejectedError } from '../errors';
import type { MediaClient } from '../media-client';
import { localFile, sha256OfFile, uploadFile, type LocalFile } from './local-file';
import { ResumeJournal } from './resume-journal';

/** What became of one file of a bulk upload. */
export interface FileOutcome {
  /** Path relative to the folder. */
  file: string;
  size: number;
  status: 'ready' | 'skipped' | 'rejected' | 'failed';
  mediaId?: string;
  /** Why it was rejected or failed: a stable code and a sentence. */
  code?: string;
  reason?: string;
}

export interface BulkProgress {
  filesTotal: number;
  filesDone: number;
  /** Of the files done, those skipped because they were already uploaded (no bytes, no waiting). */
  filesSkipped?: number;
  /** Bytes of the files that need uploading (skipped ones are never in the total). */
  bytesTotal: number;
  bytesSent: number;
  /** When the uploads began (after every file was checked), for rates and the time left. */
  startedAt: number;
}

/**
 * The run cannot go on for any file: the API does not answer, refuses the token, or refuses this
 * purpose for this caller. Raised once, instead of one failure per file.
 */
export class BulkUploadStopped extends Error {
  override readonly name = 'BulkUploadStopped';
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

/** Errors that every other file would meet too: stop the run instead of failing file after file. */
function stopsTheRun(error: unknown, apiUrl: string, purpose: string): BulkUploadStopped | undefined {
  if (!isMediaApiError(error)) return undefined;
  switch (error.code) {
    case 'NETWORK_ERROR':
      return new BulkUploadStopped(
        `The media API at ${apiUrl} does not answer (${error.detail.replace(/^.*got no answer: /, '')}).`,
        error,
      );
    case 'UNEXPECTED_RESPONSE':
      return new BulkUploadStopped(`${apiUrl} is not the media API: ${error.detail}`, error);
    case 'UNAUTHENTICATED':
      return new BulkUploadStopped(`The media API refused the token: ${error.detail}`, error);
    case 'FORBIDDEN':
      return new BulkUploadStopped(`This token may not upload ${purpose} photos here: ${error.detail}`, error);
    default:
      return undefined;
  }
}

export interface BulkUploadOptions {
  client: MediaClient;
  dir: string;
  purpose: Purpose;
  classroomId?: string;
  subjectId?: string;
  concurrency: number;
  /** How long to wait for each file's processing. */
  timeoutMs: number;
  onProgress?: (progress: BulkProgress) => void;
  /** The API's address, for messages. */
  apiUrl?: string;
  /** Where unfinished multipart uploads are remembered; by default a file per folder in the temporary folder. */
  resumeJournal?: ResumeJournal;
}

export interface BulkUploadResult {
  outcomes: FileOutcome[];
  /** Files left out because their names say they are neither photos nor videos (and hidden files). */
  ignored: string[];
  progress: BulkProgress;
  elapsedMs: number;
}

/** Every file under the folder, hidden ones left out, in a stable order. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter(
      (path) =>
        !relative(dir, path)
          .split(/[\\/]/)
          .some((part) => part.startsWith('.')),
    )
    .sort();
}

/** Runs `work` on each item, `width` at a time, until done or until `stop()` says so. */
async function eachAtMost<T>(
  items: readonly T[],
  width: number,
  stop: () => boolean,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop()) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, lane));
}

/**
 * Uploads a folder through the client, `concurrency` files at a time, each until it is ready or
 * rejected. First every file is checked: one whose sha256 is already ready for the same purpose in
 * the caller's tenant is skipped, so running it again after an interruption only sends what is
 * missing, and the byte total and time left count only what will really be sent. An unreachable
 * API, a refused token or a refused purpose stops the run with one `BulkUploadStopped`.
 */
export async function bulkUpload(options: BulkUploadOptions): Promise<BulkUploadResult> {
  const { client, dir, purpose } = options;
  const began = Date.now();
  // Multipart uploads a stopped run left half-way are resumed, not sent again.
  const journal = options.resumeJournal ?? ResumeJournal.forFolder(dir);
  const paths = await filesUnder(dir);
  const files: LocalFile[] = [];
  const ignored: string[] = [];
  for (const path of paths) {
    const file = await localFile(path);
    if (file.contentType) files.push(file);
    else ignored.push(relative(dir, path));
  }

  const progress: BulkProgress = {
    filesTotal: files.length,
    filesDone: 0,
    filesSkipped: 0,
    bytesTotal: 0,
    bytesSent: 0,
    startedAt: Date.now(),
  };
  const report = () => options.onProgress?.({ ...progress });
  let stopped: BulkUploadStopped | undefined;
  const stop = (error: unknown) => {
    stopped ??= stopsTheRun(error, options.apiUrl ?? 'the given address', purpose);
    return stopped !== undefined;
  };

  async function alreadyUploaded(sha256: string): Promise<string | undefined> {
    for await (const page of client.list({ sha256, purpose, status: 'ready', limit: 1 })) return page.items[0]?.id;
    return undefined;
  }

  const outcomes: FileOutcome[] = new Array(files.length);
  const outcomeOf = (file: LocalFile) => ({ file: relative(dir, file.path), size: file.size });

  // 1. Which files are already there.
  const toSend: number[] = [];
  await eachAtMost(
    files,
    options.concurrency,
    () => stopped !== undefined,
    async (file, index) => {
      try {
        const existing = await alreadyUploaded(await sha256OfFile(file.path));
        if (existing) {
          outcomes[index] = { ...outcomeOf(file), status: 'skipped', mediaId: existing };
          progress.filesDone += 1;
          progress.filesSkipped! += 1;
        } else {
          toSend.push(index);
          progress.bytesTotal += file.size;
        }
      } catch (error) {
        if (stop(error)) return;
        const { message } = error as Error;
        outcomes[index] = { ...outcomeOf(file), status: 'failed', code: isMediaApiError(error) ? error.code : 'ERROR', reason: message };
        progress.filesDone += 1;
      }
    },
  );
  if (stopped) throw stopped;
  toSend.sort((a, b) => a - b);
  progress.startedAt = Date.now();
  report();

  // 2. The others, each until ready or rejected.
  async function uploadOne(file: LocalFile): Promise<FileOutcome | undefined> {
    const outcome = outcomeOf(file);
    let sent = 0;
    const settle = (result: FileOutcome): FileOutcome => {
      // Bytes that will never be sent leave the total, so the bar still ends at 100 %.
      progress.bytesTotal -= file.size - sent;
      return result;
    };
    try {
      const uploaded = await uploadFile(
        client,
        file.path,
        { purpose, classroomId: options.classroomId, subjectId: options.subjectId },
        {
          onProgress: ({ loaded }) => {
            progress.bytesSent += loaded - sent;
            sent = loaded;
            report();
          },
        },
        journal,
      );
      const record = await client.waitUntilReady(uploaded.mediaId, { timeoutMs: options.timeoutMs });
      return settle({ ...outcome, status: 'ready', mediaId: record.id });
    } catch (error) {
      if (error instanceof MediaRejectedError) {
        return settle({ ...outcome, status: 'rejected', mediaId: error.record.id, code: error.code, reason: error.detail });
      }
      if (stop(error)) return undefined;
      // The API refused the file itself (type, size): a rejection, not an outage.
      if (isMediaApiError(error) && error.status >= 400 && error.status < 500) {
        return settle({ ...outcome, status: 'rejected', code: error.code, reason: error.detail });
      }
      const { name, message } = error as Error;
      const code = isMediaApiError(error) ? error.code : name === 'TimeoutError' ? 'TIMEOUT' : 'ERROR';
      return settle({ ...outcome, status: 'failed', code, reason: message });
    }
  }

  await eachAtMost(
    toSend,
    options.concurrency,
    () => stopped !== undefined,
    async (index) => {
      const outcome = await uploadOne(files[index]!);
      if (!outcome) return;
      outcomes[index] = outcome;
      progress.filesDone += 1;
      report();
    },
  );
  if (stopped) throw stopped;
  return { outcomes, ignored, progress, elapsedMs: Date.now() - began };
}
