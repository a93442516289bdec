import type {
  AuditEntry,
  AuditQuery,
  ConsentBody,
  ConsentRecord,
  DownloadUrlItem,
  ErasureRecord,
  ExportRecord,
  ListQuery,
  MediaRecord,
  MultipartTicket,
  PartUrlsAnswer,
  Purpose,
  RetentionPreviewAnswer,
  UploadedPartsAnswer,
  UploadRequest,
  UploadTicket,
  VariantName,
} from './contract-types';
import { errorFromResponse, MediaApiError, MediaRejectedError } from './errors';
import { contentTypeByName } from './file-types';
import { abortMultipart, completeMultipart, heldParts, sendParts, signPartUrls, startMultipart } from './multipart-upload';
import { postToStorage, type FilePart, type UploadProgress } from './storage-post';

export interface MediaClientOptions {
  /** Where the API lives, e.g. `https://media.school.example` or `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** A fixed bearer token… */
  token?: string;
  /** …or a function asked before every request (for tokens that refresh). */
  getToken?: () => string | Promise<string>;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /**
   * Files of this size and more go in parts (resumable, straight to storage): the service's
   * MEDIA_MULTIPART_THRESHOLD_BYTES, 100 MiB unless it was changed. Needs a Blob or File (Node:
   * `fs.openAsBlob`).
   */
  multipartThresholdBytes?: number;
}

/** What `upload` accepts: a File or Blob, bytes (Buffer is a Uint8Array), or a stream. */
export type UploadBody = Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface UploadOptions {
  purpose: Purpose;
  /** Defaults to the Blob's type; required for bytes and streams. */
  contentType?: string;
  /** Defaults to the File's name. Metadata only: never part of a storage key. */
  filename?: string;
  /** The person the item shows (the first of `subjectIds` when both are given). None named: about nobody. */
  subjectId?: string;
  /** Every person the item shows (a class photo: each child in it). */
  subjectIds?: string[];
  classroomId?: string;
  /** Exact byte count of a stream; without it the stream is read into memory first. */
  size?: number;
}

export interface TransferOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  /** A multipart upload has begun: keep its id to resume it (`resumeUpload`) after an interruption. */
  onMultipartStarted?: (mediaId: string) => void;
}

export interface Uploaded {
  mediaId: string;
  size: number;
  contentType: string;
}

export interface WaitOptions {
  /** Give up after this long (default 60 s); the upload carries on server-side. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each record seen while waiting. */
  onStatus?: (record: MediaRecord) => void;
}

export type ListFilter = Partial<Omit<ListQuery, 'limit'>> & { limit?: number };
export interface ListPage {
  items: MediaRecord[];
  nextCursor: string | null;
}
export interface UsageRow {
  key: string;
  count: number;
  bytes: number;
}

export type AuditFilter = Partial<Omit<AuditQuery, 'limit'>> & { limit?: number };
export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}
export interface JobWaitOptions<State = ExportRecord | ErasureRecord> {
  /** Give up after this long (default 5 minutes); the job carries on server-side. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with each state seen while waiting (counts so far). */
  onStatus?: (state: State) => void;
}

export interface MediaClient {
  /** POST /v1/uploads: a pending record and the presigned POST for its bytes. */
  requestUpload(request: UploadRequest): Promise<UploadTicket>;
  /** POST /v1/uploads/batch: up to 50 tickets, accepted or refused as a whole. */
  requestUploads(requests: UploadRequest[]): Promise<UploadTicket[]>;
  /** Asks for a ticket and sends the bytes straight to storage, reporting progress. */
  upload(body: UploadBody, options: UploadOptions, transfer?: TransferOptions): Promise<Uploaded>;
  /**
   * Finishes a multipart upload that was interrupted (a reload, a lost connection, a stopped run):
   * asks which parts storage holds, sends the others from the same file, completes it.
   */
  resumeUpload(mediaId: string, file: Blob, transfer?: TransferOptions): Promise<Uploaded>;
  /** Gives up a multipart upload: its parts are removed and the record becomes expired. */
  abortUpload(mediaId: string): Promise<void>;
  /**
   * The multipart routes one by one, for uploaders that cut and send the parts themselves (Uppy:
   * `@media/client/uppy`). POST /v1/uploads with `multipart: true`: the id and the plan to follow.
   */
  startMultipartUpload(request: Omit<UploadRequest, 'multipart'>): Promise<MultipartTicket>;
  /** POST /v1/uploads/{id}/parts: a presigned PUT for each part named (at most 100 at once). */
  signParts(mediaId: string, partNumbers: number[]): Promise<PartUrlsAnswer['parts']>;
  /** GET /v1/uploads/{id}/parts: the parts storage holds, and the plan. */
  listParts(mediaId: string): Promise<UploadedPartsAnswer>;
  /** POST /v1/uploads/{id}/complete: the service checks the parts against storage, then assembles them. */
  completeUpload(mediaId: string, parts: { partNumber: number; etag: string }[]): Promise<MediaRecord>;
  /** Polls with back-off until the record is ready; throws MediaRejectedError if it never will be. */
  waitUntilReady(id: string, options?: WaitOptions): Promise<MediaRecord>;
  get(id: string): Promise<MediaRecord>;
  /** Every page of GET /v1/media, one at a time: `for await (const page of client.list({…}))`. */
  list(filter?: ListFilter): AsyncIterable<ListPage>;
  downloadUrl(id: string, variant?: VariantName): Promise<{ url: string; expiresAt: string }>;
  /**
   * URLs for a gallery or a service's batch, through POST /v1/media/download-urls: any number of
   * ids, sent 100 to a request, answered in the order asked. Each item is a URL or that item's
   * refusal (`{ id, error: { code } }`: NOT_FOUND, FORBIDDEN, NOT_READY, CONSENT_REQUIRED); one
   * refused item never fails the others.
   */
  downloadUrls(ids: readonly string[], variant?: VariantName): Promise<DownloadUrlItem[]>;
  delete(id: string): Promise<void>;
  setLegalHold(id: string, hold: boolean): Promise<MediaRecord>;
  usage(groupBy?: 'purpose' | 'subject'): Promise<UsageRow[]>;

  /** GET /v1/subjects/{id}/consent: both false, `updatedAt` null, for a person never asked. */
  getConsent(subjectId: string): Promise<ConsentRecord>;
  /** PUT /v1/subjects/{id}/consent: a field left out keeps its value. */
  setConsent(subjectId: string, change: ConsentBody): Promise<ConsentRecord>;
  /** Every page of the access audit, newest first: `for await (const page of client.audit({ subjectId }))`. */
  audit(filter?: AuditFilter): AsyncIterable<AuditPage>;
  /** What the retention runs will delete within `withinDays` (default 30), per purpose with a retention. */
  retentionPreview(withinDays?: number): Promise<RetentionPreviewAnswer['items']>;
  /** Starts gathering everything about a person into one ZIP (or gives back the export already running). */
  exportSubject(subjectId: string): Promise<{ exportId: string; status: ExportRecord['status'] }>;
  /** Polls an export until it is done: its record then carries the ZIP's short-lived `url`. */
  waitForExport(exportId: string, options?: JobWaitOptions<ExportRecord>): Promise<ExportRecord>;
  /** Starts erasing everything about a person (or gives back the erasure already running). */
  eraseSubject(subjectId: string): Promise<{ erasureId: string; status: ErasureRecord['status'] }>;
  /** Polls an erasure until it is done: `deleted`, and `heldBack` for items under legal hold. */
  waitForErasure(erasureId: string, options?: JobWaitOptions<ErasureRecord>): Promise<ErasureRecord>;
}

const STREAM_CHUNK = 64 * 1024;
/** The batch route's limit (MAX_DOWNLOAD_URLS of the contract). */
const DOWNLOAD_URLS_PER_REQUEST = 100;
const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;

function bytesOf(body: ArrayBuffer | ArrayBufferView): Uint8Array {
  return body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/** Bytes as a stream of 64 KiB chunks, so progress moves in steps a person can see. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.subarray(offset, offset + STREAM_CHUNK));
      offset += STREAM_CHUNK;
    },
  });
}

function toReadableStream(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  if (source instanceof ReadableStream) return source;
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value instanceof Uint8Array ? value : bytesOf(value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  const all = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

const isBlob = (body: UploadBody): body is Blob => typeof Blob !== 'undefined' && body instanceof Blob;

/** Turns whatever the caller has into a file part of known size and type. */
async function filePartOf(body: UploadBody, options: UploadOptions): Promise<FilePart> {
  const missingType = () =>
    new MediaApiError({ code: 'VALIDATION_FAILED', status: 0, detail: 'contentType is required for bytes and streams.' });
  if (isBlob(body)) {
    const filename = options.filename ?? ((body as File).name || 'file');
    const contentType = options.contentType || body.type || contentTypeByName(filename);
    if (!contentType) throw missingType();
    return { kind: 'blob', blob: body, size: body.size, contentType, filename };
  }
  if (!options.contentType) throw missingType();
  const filename = options.filename ?? 'file';
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const bytes = bytesOf(body);
    if (typeof XMLHttpRequest !== 'undefined') {
      return {
        kind: 'blob',
        blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: options.contentType }),
        size: bytes.byteLength,
        contentType: options.contentType,
        filename,
      };
    }
    return { kind: 'stream', stream: chunked(bytes), size: bytes.byteLength, contentType: options.contentType, filename };
  }
  const stream = toReadableStream(body);
  if (options.size !== undefined && typeof XMLHttpRequest === 'undefined') {
    return { kind: 'stream', stream, size: options.size, contentType: options.contentType, filename };
  }
  // Unknown length (or a browser, where XHR wants a Blob): read it first; the declared size must be exact.
  return filePartOf(await readAll(stream), options);
}

/** `?name=value&…` of the values given (none: the empty string). */
function queryOf(values: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null) query.set(name, String(value));
  }
  return query.size ? `?${query}` : '';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Polls `read` until its answer is done, asking soon and then less often. */
async function pollUntilDone<T extends { status: ExportRecord['status'] }>(
  read: () => Promise<T>,
  what: string,
  { timeoutMs = 300_000, signal, onStatus }: JobWaitOptions<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 200;
  for (;;) {
    const state = await read();
    onStatus?.(state);
    if (state.status === 'done') return state;
    const left = deadline - Date.now();
    if (left <= 0) throw new DOMException(`${what} was still ${state.status} after ${timeoutMs} ms.`, 'TimeoutError');
    await sleep(Math.min(delay, left), signal);
    delay = Math.min(delay * 1.5, 2_000);
  }
}

/** A typed client for the media API; the same code runs in browsers and in Node 24. */
export function createMediaClient(options: MediaClientOptions): MediaClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  if (!options.token && !options.getToken) throw new TypeError('createMediaClient needs a token or getToken.');

  async function call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const token = options.getToken ? await options.getToken() : options.token!;
    let response: Response;
    try {
      response = await doFetch(baseUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw new MediaApiError({ code: 'NETWORK_ERROR', status: 0, detail: `${method} ${path} got no answer: ${(error as Error).message}` });
    }
    if (!response.ok) throw await errorFromResponse(response);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  const idPath = (id: string) => `/v1/media/${encodeURIComponent(id)}`;
  const subjectPath = (subjectId: string) => `/v1/subjects/${encodeURIComponent(subjectId)}`;

  const client: MediaClient = {
    requestUpload: (request) => call('POST', '/v1/uploads', request),

    requestUploads: async (requests) => (await call<{ items: UploadTicket[] }>('POST', '/v1/uploads/batch', { items: requests })).items,

    async upload(body, uploadOptions, transfer = {}) {
      const file = await filePartOf(body, uploadOptions);
      const { size: _size, ...rest } = uploadOptions;
      const request: UploadRequest = { ...rest, contentType: file.contentType, size: file.size, filename: file.filename };
      const inParts = async () => {
        if (file.kind !== 'blob') {
          throw new MediaApiError({
            code: 'VALIDATION_FAILED',
            status: 0,
            detail: `A file of ${file.size} bytes goes in parts: pass it as a Blob or File (Node: fs.openAsBlob).`,
          });
        }
        const ticket = await startMultipart(call, request, transfer.signal);
        transfer.onMultipartStarted?.(ticket.mediaId);
        await sendParts(call, ticket.mediaId, file.blob, ticket.multipart, [], {
          onProgress: transfer.onProgress,
          signal: transfer.signal,
          fetch: doFetch,
        });
        return { mediaId: ticket.mediaId, size: file.size, contentType: file.contentType };
      };
      if (file.size >= (options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD)) return inParts();
      let ticket: UploadTicket;
      try {
        ticket = await call<UploadTicket>('POST', '/v1/uploads', request, transfer.signal);
      } catch (error) {
        // The service's threshold is lower than the one configured here: it says so, and parts it is.
        if (
          error instanceof MediaApiError &&
          error.code === 'VALIDATION_FAILED' &&
          error.issues.some((issue) => issue.path === 'body.multipart')
        ) {
          return inParts();
        }
        throw error;
      }
      transfer.onProgress?.({ loaded: 0, total: file.size, fraction: 0 });
      await postToStorage(ticket.upload, file, { onProgress: transfer.onProgress, signal: transfer.signal, fetch: doFetch });
      return { mediaId: ticket.mediaId, size: file.size, contentType: file.contentType };
    },

    async resumeUpload(mediaId, file, transfer = {}) {
      const held = await heldParts(call, mediaId, transfer.signal);
      const record = await sendParts(call, mediaId, file, held, held.parts, {
        onProgress: transfer.onProgress,
        signal: transfer.signal,
        fetch: doFetch,
      });
      return { mediaId, size: file.size, contentType: record.contentType };
    },

    abortUpload: (mediaId) => abortMultipart(call, mediaId),

    startMultipartUpload: (request) => startMultipart(call, request),

    signParts: async (mediaId, partNumbers) => (await signPartUrls(call, mediaId, partNumbers)).parts,

    listParts: (mediaId) => heldParts(call, mediaId),

    completeUpload: (mediaId, parts) => completeMultipart(call, mediaId, parts),

    async waitUntilReady(id, { timeoutMs = 60_000, signal, onStatus } = {}) {
      const deadline = Date.now() + timeoutMs;
      // Processing takes a fraction of a second to a few seconds: ask soon, then less and less often.
      let delay = 150;
      for (;;) {
        const record = await call<MediaRecord>('GET', idPath(id), undefined, signal);
        onStatus?.(record);
        if (record.status === 'ready') return record;
        if (record.status !== 'pending' && record.status !== 'processing') throw new MediaRejectedError(record);
        const left = deadline - Date.now();
        if (left <= 0) throw new DOMException(`Media ${id} was still ${record.status} after ${timeoutMs} ms.`, 'TimeoutError');
        await sleep(Math.min(delay, left), signal);
        delay = Math.min(delay * 1.6, 2_000);
      }
    },

    get: (id) => call('GET', idPath(id)),

    async *list(filter = {}) {
      let cursor = filter.cursor;
      do {
        const page = await call<ListPage>('GET', `/v1/media${queryOf({ ...filter, cursor })}`);
        yield page;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    downloadUrl: (id, variant = 'medium') => call('GET', `${idPath(id)}/download?variant=${encodeURIComponent(variant)}`),

    async downloadUrls(ids, variant = 'medium') {
      const batches: string[][] = [];
      for (let at = 0; at < ids.length; at += DOWNLOAD_URLS_PER_REQUEST) batches.push(ids.slice(at, at + DOWNLOAD_URLS_PER_REQUEST));
      const answers = await Promise.all(
        batches.map((batch) => call<{ items: DownloadUrlItem[] }>('POST', '/v1/media/download-urls', { ids: batch, variant })),
      );
      return answers.flatMap((answer) => answer.items);
    },

    delete: (id) => call('DELETE', idPath(id)),

    setLegalHold: (id, hold) => call('PUT', `${idPath(id)}/legal-hold`, { hold }),

    usage: async (groupBy = 'purpose') => (await call<{ items: UsageRow[] }>('GET', `/v1/usage?groupBy=${groupBy}`)).items,

    getConsent: (subjectId) => call('GET', `${subjectPath(subjectId)}/consent`),

    setConsent: (subjectId, change) => call('PUT', `${subjectPath(subjectId)}/consent`, change),

    async *audit(filter = {}) {
      let cursor = filter.cursor;
      do {
        const page = await call<AuditPage>('GET', `/v1/audit${queryOf({ ...filter, cursor })}`);
        yield page;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    },

    retentionPreview: async (withinDays = 30) =>
      (await call<RetentionPreviewAnswer>('GET', `/v1/retention/preview?withinDays=${withinDays}`)).items,

    exportSubject: (subjectId) => call('POST', `${subjectPath(subjectId)}/export`),

    waitForExport: (exportId, waitOptions = {}) =>
      pollUntilDone(
        () => call<ExportRecord>('GET', `/v1/exports/${encodeURIComponent(exportId)}`, undefined, waitOptions.signal),
        `Export ${exportId}`,
        waitOptions,
      ),

    eraseSubject: (subjectId) => call('POST', `${subjectPath(subjectId)}/erasure`),

    waitForErasure: (erasureId, waitOptions = {}) =>
      pollUntilDone(
        () => call<ErasureRecord>('GET', `/v1/erasures/${encodeURIComponent(erasureId)}`, undefined, waitOptions.signal),
        `Erasure ${erasureId}`,
        waitOptions,
      ),
  };
  return client;
}
