import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Purpose } from '../contract-types';
import { isMediaApiError, MediaRejectedError } from '../errors';
import type { MediaClient } from '../media-client';
import { localFile, sha256OfFile, uploadFile, type LocalFile } from './local-file';

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
  /** Bytes of the files that need uploading (skipped ones leave the total). */
  bytesTotal: number;
  bytesSent: number;
  startedAt: number;
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
}

export interface BulkUploadResult {
  outcomes: FileOutcome[];
  /** Files left out because their names say they are not images (and hidden files). */
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
    .filter((path) => !relative(dir, path).split(/[\\/]/).some((part) => part.startsWith('.')))
    .sort();
}

/**
 * Uploads a folder through the client, `concurrency` files at a time, each until it is ready or
 * rejected. A file whose sha256 is already ready for the same purpose in the caller's tenant is
 * skipped, so running it again after an interruption only sends what is missing.
 */
export async function bulkUpload(options: BulkUploadOptions): Promise<BulkUploadResult> {
  const { client, dir, purpose } = options;
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
    bytesTotal: files.reduce((sum, f) => sum + f.size, 0),
    bytesSent: 0,
    startedAt: Date.now(),
  };
  const report = () => options.onProgress?.({ ...progress });

  async function alreadyUploaded(sha256: string): Promise<string | undefined> {
    for await (const page of client.list({ sha256, purpose, status: 'ready', limit: 1 })) return page.items[0]?.id;
    return undefined;
  }

  async function uploadOne(file: LocalFile): Promise<FileOutcome> {
    const outcome = { file: relative(dir, file.path), size: file.size };
    let sent = 0;
    const settle = (result: FileOutcome): FileOutcome => {
      // Bytes that will never be sent leave the total, so the bar still ends at 100 %.
      progress.bytesTotal -= file.size - sent;
      return result;
    };
    try {
      const existing = await alreadyUploaded(await sha256OfFile(file.path));
      if (existing) return settle({ ...outcome, status: 'skipped', mediaId: existing });
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
      );
      const record = await client.waitUntilReady(uploaded.mediaId, { timeoutMs: options.timeoutMs });
      return settle({ ...outcome, status: 'ready', mediaId: record.id });
    } catch (error) {
      if (error instanceof MediaRejectedError) {
        return settle({ ...outcome, status: 'rejected', mediaId: error.record.id, code: error.code, reason: error.detail });
      }
      // The API refused the file itself (type, size, permission): a rejection, not an outage.
      if (isMediaApiError(error) && error.status >= 400 && error.status < 500 && error.code !== 'UNAUTHENTICATED') {
        return settle({ ...outcome, status: 'rejected', code: error.code, reason: error.detail });
      }
      const { name, message } = error as Error;
      const code = isMediaApiError(error) ? error.code : name === 'TimeoutError' ? 'TIMEOUT' : 'ERROR';
      return settle({ ...outcome, status: 'failed', code, reason: message });
    }
  }

  const outcomes: FileOutcome[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const index = next++;
      outcomes[index] = await uploadOne(files[index]!);
      progress.filesDone += 1;
      report();
    }
  };
  report();
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, files.length)) }, worker));
  return { outcomes, ignored, progress, elapsedMs: Date.now() - progress.startedAt };
}
