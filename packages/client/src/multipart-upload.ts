import type { MediaRecord, MultipartTicket, PartUrlsAnswer, UploadedPartsAnswer } from './contract-types';
import { MediaApiError } from './errors';
import type { UploadProgress } from './storage-post';

/** The API calls a multipart upload makes, bound to a client's base URL and token. */
export type ApiCall = <T>(method: string, path: string, body?: unknown, signal?: AbortSignal) => Promise<T>;

export interface PartsOptions {
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
  fetch: typeof fetch;
  /** Parts in flight at once. */
  concurrency?: number;
}

const PART_ATTEMPTS = 3;
/** URLs are signed a few at a time, just before use: a signed URL lives ten minutes. */
const SIGN_AHEAD = 8;

const uploadPath = (mediaId: string) => `/v1/uploads/${encodeURIComponent(mediaId)}`;

/**
 * Sends a Blob's parts straight to storage (each to its presigned PUT, several at once, each
 * retried), skipping the parts storage already holds, then asks the service to assemble them.
 * Progress counts the bytes of finished parts, those held from an earlier attempt included.
 */
export async function sendParts(
  call: ApiCall,
  mediaId: string,
  blob: Blob,
  plan: { partSize: number; partCount: number },
  held: UploadedPartsAnswer['parts'],
  options: PartsOptions,
): Promise<MediaRecord> {
  const done = new Map(held.map((part) => [part.partNumber, { etag: part.etag, size: part.size }]));
  const expectedSize = (n: number) => (n < plan.partCount ? plan.partSize : blob.size - plan.partSize * (plan.partCount - 1));
  // A held part of the wrong size (cut short) is sent again.
  for (const [n, part] of done) if (part.size !== expectedSize(n)) done.delete(n);
  const missing = Array.from({ length: plan.partCount }, (_, i) => i + 1).filter((n) => !done.has(n));

  let loaded = [...done.values()].reduce((sum, part) => sum + part.size, 0);
  const report = () => options.onProgress?.({ loaded, total: blob.size, fraction: blob.size === 0 ? 1 : Math.min(1, loaded / blob.size) });
  report();

  const queue = [...missing];
  const urls = new Map<number, string>();
  const urlFor = async (n: number): Promise<string> => {
    const known = urls.get(n);
    if (known) return known;
    const batch = [n, ...queue.slice(0, SIGN_AHEAD - 1)];
    const signed = await signPartUrls(call, mediaId, batch, options.signal);
    for (const part of signed.parts) urls.set(part.partNumber, part.url);
    return urls.get(n)!;
  };
  const sendPart = async (n: number) => {
    const body = blob.slice((n - 1) * plan.partSize, Math.min(blob.size, n * plan.partSize));
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await options.fetch(await urlFor(n), { method: 'PUT', body, signal: options.signal });
        if (!response.ok) throw new Error(`storage answered ${response.status} for part ${n}`);
        await response.arrayBuffer();
        const etag = response.headers.get('etag');
        if (!etag) throw new Error(`storage gave no ETag for part ${n} (does its CORS expose ETag?)`);
        done.set(n, { etag, size: body.size });
        loaded += body.size;
        report();
        return;
      } catch (error) {
        urls.delete(n); // an expired signature is signed again
        if (options.signal?.aborted) throw options.signal.reason;
        if (attempt >= PART_ATTEMPTS) {
          throw new MediaApiError({
            code: 'STORAGE_REFUSED',
            status: 0,
            detail: `Part ${n} could not be sent: ${(error as Error).message}`,
          });
        }
      }
    }
  };
  const lanes = Array.from({ length: Math.min(options.concurrency ?? 4, queue.length) }, async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) await sendPart(n);
  });
  await Promise.all(lanes);

  const parts = [...done.entries()].sort(([a], [b]) => a - b).map(([partNumber, { etag }]) => ({ partNumber, etag }));
  return completeMultipart(call, mediaId, parts, options.signal);
}

/** Presigned PUTs for the parts named (at most 100 at once). */
export const signPartUrls = (call: ApiCall, mediaId: string, partNumbers: number[], signal?: AbortSignal) =>
  call<PartUrlsAnswer>('POST', `${uploadPath(mediaId)}/parts`, { partNumbers }, signal);

/** Asks the service to check the parts against storage and assemble them. */
export const completeMultipart = (call: ApiCall, mediaId: string, parts: { partNumber: number; etag: string }[], signal?: AbortSignal) =>
  call<MediaRecord>('POST', `${uploadPath(mediaId)}/complete`, { parts }, signal);

/** Starts a multipart upload; the ticket carries the plan the parts must follow. */
export const startMultipart = (call: ApiCall, request: object, signal?: AbortSignal) =>
  call<MultipartTicket>('POST', '/v1/uploads', { ...request, multipart: true }, signal);

/** What storage holds of an upload so far, with its plan. */
export const heldParts = (call: ApiCall, mediaId: string, signal?: AbortSignal) =>
  call<UploadedPartsAnswer>('GET', `${uploadPath(mediaId)}/parts`, undefined, signal);

export const abortMultipart = (call: ApiCall, mediaId: string) => call<void>('DELETE', uploadPath(mediaId));
