import { createHash } from 'node:crypto';
import { createReadStream, openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isMediaApiError } from '../errors';
import { contentTypeByName } from '../file-types';
import type { MediaClient, TransferOptions, Uploaded, UploadOptions } from '../media-client';
import { ResumeJournal } from './resume-journal';

/** The type a file declares by its name, as a browser does; the service checks the real bytes. */
export const contentTypeOf = (path: string): string | undefined => contentTypeByName(basename(path));

export interface LocalFile {
  path: string;
  filename: string;
  size: number;
  contentType: string | undefined;
}

export async function localFile(path: string): Promise<LocalFile> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path} is not a file.`);
  return { path, filename: basename(path), size: info.size, contentType: contentTypeOf(path) };
}

/**
 * Uploads the file as a file-backed Blob: streamed from disk (never whole in memory) with its exact
 * size, so progress is real, and readable again if storage asks for a retry. Large files go in
 * parts (the client decides by size); with a journal, a multipart upload an earlier run left
 * unfinished is resumed from the parts storage holds.
 */
export async function uploadFile(
  client: MediaClient,
  path: string,
  options: Omit<UploadOptions, 'size'>,
  transfer: TransferOptions = {},
  journal?: ResumeJournal,
): Promise<Uploaded> {
  const file = await localFile(path);
  const contentType = options.contentType ?? file.contentType ?? 'application/octet-stream';
  const blob = await openAsBlob(path, { type: contentType });
  const key = journal && ResumeJournal.keyOf({ path, size: file.size, mtimeMs: (await stat(path)).mtimeMs });
  const unfinished = key ? await journal!.get(key) : undefined;
  if (unfinished) {
    try {
      const resumed = await client.resumeUpload(unfinished, blob, transfer);
      await journal!.delete(key!);
      return resumed;
    } catch (error) {
      // Expired, aborted or finished meanwhile: the file goes again from the start.
      if (!isMediaApiError(error) || !['CONFLICT', 'NOT_FOUND'].includes(error.code)) throw error;
      await journal!.delete(key!);
    }
  }
  const uploaded = await client.upload(
    blob,
    { filename: file.filename, ...options, contentType, size: file.size },
    {
      ...transfer,
      onMultipartStarted: (mediaId) => {
        if (key) void journal!.set(key, mediaId);
        transfer.onMultipartStarted?.(mediaId);
      },
    },
  );
  if (key) await journal!.delete(key);
  return uploaded;
}

/** Hex SHA-256 of a file's bytes: what the service stores as `sha256` for the original. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Collects a Node or web stream into one Buffer (for callers that have neither a path nor a size). */
export async function streamToBuffer(stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
