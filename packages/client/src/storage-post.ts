import { MediaApiError } from './errors';

/**
 * Sends the bytes to the presigned S3 POST the API handed out, with real byte progress: XHR upload
 * events where XMLHttpRequest exists (browsers), otherwise a multipart body streamed through fetch
 * whose file part is counted as fetch pulls it (Node 24, Deno, Bun).
 */

export interface UploadProgress {
  /** File bytes sent so far. */
  loaded: number;
  total: number;
  /** 0…1 */
  fraction: number;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/** The file part: a Blob (File) or a stream whose exact size is known up front. */
export type FilePart =
  | { kind: 'blob'; blob: Blob; size: number; contentType: string; filename: string }
  | { kind: 'stream'; stream: ReadableStream<Uint8Array>; size: number; contentType: string; filename: string };

export interface PostOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  fetch: typeof fetch;
}

const progressOf = (loaded: number, total: number): UploadProgress => ({
  loaded,
  total,
  fraction: total === 0 ? 1 : Math.min(1, loaded / total),
});

/** S3 answers errors in XML: keep its code and message, drop the rest. */
function storageError(status: number, body: string): MediaApiError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  const reason = [message, code && `(${code})`].filter(Boolean).join(' ') || `status ${status}`;
  return new MediaApiError({
    code: 'STORAGE_REFUSED',
    status,
    title: 'Storage refused the upload',
    detail: `Storage refused the upload: ${reason}`,
  });
}

const abortError = (signal: AbortSignal): unknown => signal.reason ?? new DOMException('The upload was aborted.', 'AbortError');

function postWithXhr(target: PresignedPost, file: FilePart & { kind: 'blob' }, options: PostOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(abortError(options.signal));
    const form = new FormData();
    for (const [name, value] of Object.entries(target.fields)) form.append(name, value);
    form.append('file', file.blob, file.filename);
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => options.signal?.removeEventListener('abort', onAbort);
    xhr.open('POST', target.url);
    // The event counts the whole multipart body; scale it to the file so `loaded` means file bytes.
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) {
        options.onProgress?.(progressOf(Math.floor((event.loaded / event.total) * file.size), file.size));
      }
    };
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(progressOf(file.size, file.size));
        resolve();
      } else {
        reject(storageError(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new MediaApiError({ code: 'NETWORK_ERROR', status: 0, detail: 'The upload to storage failed: no answer (network or CORS).' }));
    };
    xhr.onabort = () => {
      done();
      reject(options.signal ? abortError(options.signal) : new DOMException('The upload was aborted.', 'AbortError'));
    };
    xhr.send(form);
  });
}

const quoted = (value: string) => value.replace(/[\r\n]/g, ' ').replace(/"/g, '%22');

const randomBoundary = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `----media-client-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
};

/**
 * multipart/form-data with the fields first and the file last (S3 ignores anything after the
 * file), built by hand so its length is known: S3 wants a Content-Length on POST.
 */
export function multipartBody(
  fields: Record<string, string>,
  file: { stream: ReadableStream<Uint8Array>; size: number; contentType: string; filename: string },
  onFileBytes: (sent: number) => void,
): { body: ReadableStream<Uint8Array>; contentType: string; length: number } {
  const boundary = randomBoundary();
  const encoder = new TextEncoder();
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  }
  head += `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(file.filename)}"\r\nContent-Type: ${file.contentType}\r\n\r\n`;
  const headBytes = encoder.encode(head);
  const tailBytes = encoder.encode(`\r\n--${boundary}--\r\n`);
  const reader = file.stream.getReader();
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(headBytes);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) {
        if (sent !== file.size) {
          controller.error(new Error(`The file had ${sent} bytes; ${file.size} were declared.`));
          return;
        }
        controller.enqueue(tailBytes);
        controller.close();
        return;
      }
      sent += value.byteLength;
      if (sent > file.size) {
        controller.error(new Error(`The file has more than the ${file.size} bytes declared.`));
        await reader.cancel();
        return;
      }
      controller.enqueue(value);
      onFileBytes(sent);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, length: headBytes.length + file.size + tailBytes.length };
}

async function postWithFetch(target: PresignedPost, file: FilePart, options: PostOptions): Promise<void> {
  const stream = file.kind === 'blob' ? (file.blob.stream() as ReadableStream<Uint8Array>) : file.stream;
  const { body, contentType, length } = multipartBody(target.fields, { ...file, stream }, (sent) =>
    options.onProgress?.(progressOf(sent, file.size)),
  );
  let response: Response;
  try {
    response = await options.fetch(target.url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': String(length) },
      body,
      signal: options.signal,
      // A streamed request body: required by fetch for ReadableStream bodies.
      duplex: 'half',
    } as RequestInit);
  } catch (error) {
    if (options.signal?.aborted) throw abortError(options.signal);
    throw new MediaApiError({ code: 'NETWORK_ERROR', status: 0, detail: `The upload to storage failed: ${(error as Error).message}` });
  }
  if (!response.ok) throw storageError(response.status, await response.text().catch(() => ''));
  await response.body?.cancel();
  options.onProgress?.(progressOf(file.size, file.size));
}

/** S3 asks clients to retry these (InternalError, SlowDown, …); a network failure too. */
const isRetryable = (error: unknown) =>
  error instanceof MediaApiError &&
  (error.status === 0 || error.status === 500 || error.status === 502 || error.status === 503 || error.status === 504);

const RETRY_DELAYS_MS = [250, 1000];

export async function postToStorage(target: PresignedPost, file: FilePart, options: PostOptions): Promise<void> {
  const post = () =>
    file.kind === 'blob' && typeof XMLHttpRequest !== 'undefined'
      ? postWithXhr(target, file, options)
      : postWithFetch(target, file, options);
  // A Blob can be read again, so a transient storage failure is retried; a one-shot stream cannot.
  for (let attempt = 0; ; attempt++) {
    try {
      return await post();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (file.kind !== 'blob' || delay === undefined || options.signal?.aborted || !isRetryable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
