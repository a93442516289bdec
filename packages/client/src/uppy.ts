import type { AwsS3Options } from '@uppy/aws-s3';
import type { Body, Meta, Uppy, UppyFile } from '@uppy/core';
import type { MultipartTicket, Purpose, UploadRequest } from './contract-types';
import { MediaApiError } from './errors';
import type { MediaClient } from './media-client';

/**
 * `@media/client/uppy`: the options of Uppy 6's S3 plugin (`@uppy/aws-s3` 6.x) for the media
 * service. Uppy 6 sends every S3 request itself, to the URL a `signRequest(request)` callback
 * returns; here each request goes through the service's own routes first, so its checks (role,
 * purpose, type, size, quotas, the part plan, ETags) hold exactly as for `@media/client`:
 *
 * - a file under the multipart threshold is one presigned POST (`POST /v1/uploads`, its `fields`);
 * - a larger one is reserved before Uppy cuts it (a pre-processor on `uppy`: Uppy asks
 *   `getChunkSize` before it creates the upload, and the part size is the service's plan), then
 *   every part is a presigned S3 PUT from `POST /v1/uploads/{id}/parts`;
 * - create, list, complete and abort are the service's JSON routes. Uppy still wants to send those
 *   requests and read S3's XML: the signer answers with a `data:` URL holding that XML, which the
 *   browser serves without any network request (a page's CSP needs `connect-src data:`).
 *
 * What it keeps lives in each file's meta (`mediaId`, `mediaMultipart`), which Uppy's Golden
 * Retriever stores with the file: after a reload, Uppy lists the parts storage holds and sends
 * only the others. A refusal reaches Uppy's `upload-error` as the service's `MediaApiError`
 * (`code`, `detail`).
 */

export interface UppyUploadOptions {
  purpose: Purpose;
  subjectId?: string;
  classroomId?: string;
  /**
   * Files of this size and more go in parts: the service's MEDIA_MULTIPART_THRESHOLD_BYTES,
   * 100 MiB unless it was changed. Smaller files are one POST.
   */
  multipartThresholdBytes?: number;
}

/** What this module keeps in a file's meta. */
export interface MediaFileMeta {
  /** The media record's id, set as soon as the service has reserved it. */
  mediaId?: string;
  /** The service's plan for a file sent in parts: kept with the file so a reload can resume it. */
  mediaMultipart?: MultipartTicket['multipart'];
}

/**
 * The plugin's options in its signer mode (its other modes take `companionEndpoint` or
 * `getCredentials`), as `uppy.use(AwsS3, …)` takes them whatever the page's meta and body types.
 */
export type UppyS3SignerOptions = Extract<AwsS3Options<Meta, Body>, { signRequest: unknown }>;
type SignRequest = UppyS3SignerOptions['signRequest'];
type Presigned = Awaited<ReturnType<SignRequest>>;

const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;
/** Part URLs are signed a few at a time (one call for several parts); each lives ten minutes at most. */
const SIGN_AHEAD = 8;
/** A cached part URL this close to its expiry is signed again rather than used. */
const URL_MARGIN_MS = 60_000;

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const xmlText = (value: string | number) => String(value).replace(/[&<>"']/g, (c) => XML_ENTITIES[c]!);
const xml = (name: string, children: Record<string, string | number>) =>
  `<${name}>${Object.entries(children)
    .map(([tag, value]) => `<${tag}>${xmlText(value)}</${tag}>`)
    .join('')}</${name}>`;
/** S3's answer, served by the browser itself: the service has already done the work. */
const s3Answer = (body: string): Presigned => ({ url: `data:application/xml,${encodeURIComponent(body)}` });
const unquoted = (etag: string) => etag.replace(/"/g, '');

function mediaIdOf(file: UppyFile<Meta, Body> | undefined): string | undefined {
  const id = file?.meta.mediaId;
  return typeof id === 'string' && id ? id : undefined;
}

function planOf(file: UppyFile<Meta, Body> | undefined): MultipartTicket['multipart'] | undefined {
  const plan = file?.meta.mediaMultipart as Partial<MultipartTicket['multipart']> | undefined;
  return plan && typeof plan.uploadId === 'string' && Number.isInteger(plan.partSize) && Number.isInteger(plan.partCount)
    ? (plan as MultipartTicket['multipart'])
    : undefined;
}

const notOurs = (detail: string) => new MediaApiError({ code: 'VALIDATION_FAILED', status: 0, detail });

/**
 * Options for `uppy.use(AwsS3, uppyS3Options(media, uppy, { purpose }))` with `@uppy/aws-s3` 6.x.
 * It also registers, on `uppy`, a pre-processor that reserves each file going in parts and a
 * listener that keeps the ETags Uppy got for them.
 */
export function uppyS3Options<M extends Meta, B extends Body>(
  media: MediaClient,
  uppy: Uppy<M, B>,
  options: UppyUploadOptions,
): UppyS3SignerOptions {
  const threshold = options.multipartThresholdBytes ?? DEFAULT_MULTIPART_THRESHOLD;
  /** Why the service refused to reserve a file: thrown when Uppy asks to send it, so it reaches `upload-error`. */
  const refusals = new Map<string, unknown>();
  /** The ETag of each part sent or found in storage, by media id: what completion names. */
  const etags = new Map<string, Map<number, string>>();
  /** Part URLs signed ahead, by media id. */
  const signed = new Map<string, Map<number, { url: string; expiresAt: number }>>();

  // M is the page's meta type; these fields are added to whatever else it holds.
  const setMeta = (fileId: string, meta: MediaFileMeta) => uppy.setFileMeta(fileId, meta as M);
  const fileById = (fileId: string) => uppy.getFiles().find((file) => file.id === fileId);
  const fileByMediaId = (mediaId: string) => uppy.getFiles().find((file) => mediaIdOf(file) === mediaId);
  const etagsOf = (mediaId: string) => etags.get(mediaId) ?? etags.set(mediaId, new Map()).get(mediaId)!;
  const forget = (mediaId: string) => {
    etags.delete(mediaId);
    signed.delete(mediaId);
  };

  const requestFor = (file: UppyFile<M, B>, contentType?: string): Omit<UploadRequest, 'multipart'> => ({
    purpose: options.purpose,
    contentType: contentType || file.type,
    size: file.size ?? 0,
    ...(file.name ? { filename: file.name } : {}),
    ...(options.subjectId ? { subjectId: options.subjectId } : {}),
    ...(options.classroomId ? { classroomId: options.classroomId } : {}),
  });

  const goesInParts = (file: UppyFile<M, B>) => !file.isRemote && (file.size ?? 0) >= threshold;

  // Uppy cuts a file (getChunkSize) before it creates the upload, and the part size is the
  // service's: so a file going in parts is reserved first. A restored or retried file keeps its plan.
  uppy.addPreProcessor(async (fileIDs) => {
    await Promise.all(
      fileIDs.map(async (fileId) => {
        const file = fileById(fileId);
        if (!file || file.error || file.progress.uploadComplete || !goesInParts(file) || planOf(file)) return;
        refusals.delete(fileId);
        try {
          const ticket = await media.startMultipartUpload(requestFor(file));
          setMeta(fileId, { mediaId: ticket.mediaId, mediaMultipart: ticket.multipart });
        } catch (error) {
          refusals.set(fileId, error);
        }
      }),
    );
  });

  uppy.on('s3-multipart:part-uploaded', (file, part) => {
    const mediaId = mediaIdOf(fileById(file.id));
    if (mediaId) etagsOf(mediaId).set(part.PartNumber, unquoted(part.ETag));
  });
  uppy.on('file-removed', (file) => {
    refusals.delete(file.id);
    const mediaId = mediaIdOf(file);
    if (mediaId) forget(mediaId);
  });

  const refusalFor = (fileId: string) => {
    const refusal = refusals.get(fileId);
    if (refusal) {
      refusals.delete(fileId);
      throw refusal;
    }
  };

  /** A file under the threshold: reserved now, sent as the service's presigned POST. */
  async function single(key: string, contentType: string | undefined): Promise<Presigned> {
    const file = fileById(key);
    if (!file) throw notOurs(`Uppy asked to send ${key}, which is not one of its files.`);
    refusalFor(file.id);
    const ticket = await media.requestUpload(requestFor(file, contentType));
    setMeta(file.id, { mediaId: ticket.mediaId });
    return { url: ticket.upload.url, fields: ticket.upload.fields };
  }

  /** Uppy's CreateMultipartUpload: the pre-processor already reserved it; the media id becomes the key. */
  function create(key: string): Presigned {
    const file = fileById(key);
    if (!file) throw notOurs(`Uppy asked to start ${key}, which is not one of its files.`);
    refusalFor(file.id);
    const plan = planOf(file);
    const mediaId = mediaIdOf(file);
    if (!plan || !mediaId) throw notOurs(`${file.name} was not reserved for a multipart upload.`);
    return { ...s3Answer(xml('InitiateMultipartUploadResult', { Key: mediaId, UploadId: plan.uploadId })), key: mediaId };
  }

  async function partUrl(mediaId: string, partNumber: number): Promise<Presigned> {
    const cache = signed.get(mediaId) ?? signed.set(mediaId, new Map()).get(mediaId)!;
    const cached = cache.get(partNumber);
    cache.delete(partNumber);
    if (cached && cached.expiresAt - Date.now() > URL_MARGIN_MS) return { url: cached.url };
    const partCount = planOf(fileByMediaId(mediaId))?.partCount ?? partNumber;
    const batch = Array.from({ length: Math.min(SIGN_AHEAD, partCount - partNumber + 1) }, (_, i) => partNumber + i);
    const parts = await media.signParts(mediaId, batch.length ? batch : [partNumber]);
    for (const part of parts) cache.set(part.partNumber, { url: part.url, expiresAt: Date.parse(part.expiresAt) });
    const url = cache.get(partNumber)?.url;
    cache.delete(partNumber);
    if (!url) throw notOurs(`The service signed no URL for part ${partNumber} of ${mediaId}.`);
    return { url };
  }

  /** Uppy's ListParts, after a reload or a retry: what storage holds, less any part cut short. */
  async function list(mediaId: string): Promise<Presigned> {
    const held = await media.listParts(mediaId);
    const size = fileByMediaId(mediaId)?.size ?? undefined;
    const expected = (n: number) =>
      n < held.partCount || size === undefined ? held.partSize : size - held.partSize * (held.partCount - 1);
    const whole = held.parts.filter((part) => part.size === expected(part.partNumber));
    const known = etagsOf(mediaId);
    for (const part of whole) known.set(part.partNumber, unquoted(part.etag));
    const parts = whole.map((part) => xml('Part', { PartNumber: part.partNumber, ETag: unquoted(part.etag), Size: part.size }));
    return s3Answer(`<ListPartsResult><Key>${xmlText(mediaId)}</Key>${parts.join('')}</ListPartsResult>`);
  }

  /** Uppy's CompleteMultipartUpload: the service checks the ETags Uppy saw against storage. */
  async function complete(mediaId: string): Promise<Presigned> {
    const parts = [...etagsOf(mediaId)].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
    await media.completeUpload(mediaId, parts);
    forget(mediaId);
    return s3Answer(xml('CompleteMultipartUploadResult', { Location: `urn:uuid:${mediaId}`, Key: mediaId }));
  }

  async function abort(mediaId: string): Promise<Presigned> {
    await media.abortUpload(mediaId);
    forget(mediaId);
    return s3Answer('');
  }

  return {
    // Uppy proposes a key and hands it back when it signs: its own file id finds the file again.
    generateObjectKey: (file) => file.id,
    shouldUseMultipart: (file) => planOf(fileById(file.id)) !== undefined,
    // Uppy asks with the size only. Files of one size get one plan from the service, so any
    // reserved file of that size tells it.
    getChunkSize: ({ size }) =>
      uppy
        .getFiles()
        .map((file) => (file.size === size ? planOf(file) : undefined))
        .find(Boolean)?.partSize ?? size,
    async signRequest(request) {
      if ('partNumber' in request) return partUrl(request.key, request.partNumber);
      if ('uploadId' in request) {
        if (request.method === 'GET') return list(request.key);
        if (request.method === 'POST') return complete(request.key);
        return abort(request.key);
      }
      if (request.method === 'PUT') return single(request.key, 'contentType' in request ? request.contentType : undefined);
      if (request.method === 'POST') return create(request.key);
      throw notOurs('Objects are deleted through the service (DELETE /v1/media/{id}), not by Uppy.');
    },
  };
}
