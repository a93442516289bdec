import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import type { Readable } from 'node:stream';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

export interface PresignedUpload {
  url: string;
  fields: Record<string, string>;
  expiresAt: string;
}

export interface PresignedDownload {
  url: string;
  expiresAt: string;
}

export interface StorageOptions {
  bucket: string;
  region: string;
  /** Endpoint for our own calls (an emulator locally). */
  endpoint?: string;
  /** Endpoint presigned URLs carry: what a browser or another service can reach. */
  publicEndpoint?: string;
  forcePathStyle?: boolean;
  credentials?: S3ClientConfig['credentials'];
}

export const MAX_UPLOAD_URL_SECONDS = 600;
export const MAX_DOWNLOAD_URL_SECONDS = 900;

/** S3 as the media service uses it: presigning, and the few object operations processing needs. */
export class MediaStorage {
  readonly bucket: string;
  readonly client: S3Client;
  private readonly presigner: S3Client;
  /** Signs for our own functions: the address they reach S3 by, which a browser may not (LocalStack). */
  private readonly internalPresigner: S3Client;

  constructor(options: StorageOptions, clients?: { client?: S3Client; presigner?: S3Client }) {
    this.bucket = options.bucket;
    const base: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
    };
    this.client =
      clients?.client ??
      new S3Client({
        ...base,
        endpoint: options.endpoint,
        // A streamed body (a video) goes with a checksum trailer in aws-chunked framing by default,
        // which the local S3 server stores as part of the object; emulators get plain bodies.
        ...(options.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
      });
    // Presigned URLs carry no checksum: by default the SDK would sign in the CRC32 of the empty body
    // it presigns, and S3 would then refuse every real part sent to the URL.
    this.presigner =
      clients?.presigner ??
      new S3Client({ ...base, endpoint: options.publicEndpoint ?? options.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED' });
    this.internalPresigner =
      clients?.presigner ?? new S3Client({ ...base, endpoint: options.endpoint, requestChecksumCalculation: 'WHEN_REQUIRED' });
  }

  /**
   * A browser POST whose policy pins the bucket, the exact key, the exact Content-Type and a
   * content-length-range of 1..maxBytes, valid for at most ten minutes.
   */
  async presignUpload(input: { key: string; contentType: string; maxBytes: number; expiresInSeconds: number }): Promise<PresignedUpload> {
    const expiresIn = Math.min(input.expiresInSeconds, MAX_UPLOAD_URL_SECONDS);
    const { url, fields } = await createPresignedPost(this.presigner, {
      Bucket: this.bucket,
      Key: input.key,
      Expires: expiresIn,
      Fields: { 'Content-Type': input.contentType },
      Conditions: [
        { bucket: this.bucket },
        ['eq', '$key', input.key],
        ['eq', '$Content-Type', input.contentType],
        ['content-length-range', 1, input.maxBytes],
      ],
    });
    // The signed policy's own expiration is the truth: S3 refuses the POST from that moment on.
    const { expiration } = JSON.parse(Buffer.from(fields.Policy!, 'base64').toString('utf8')) as { expiration: string };
    return { url, fields, expiresAt: new Date(expiration).toISOString() };
  }

  async presignDownload(input: {
    key: string;
    expiresInSeconds: number;
    contentType: string;
    contentDisposition: string;
  }): Promise<PresignedDownload> {
    const expiresIn = Math.min(input.expiresInSeconds, MAX_DOWNLOAD_URL_SECONDS);
    // X-Amz-Date has whole seconds: sign at one, so X-Amz-Date + X-Amz-Expires is exactly expiresAt.
    const signingDate = wholeSecond(new Date());
    const expiresAt = new Date(signingDate.getTime() + expiresIn * 1000);
    const url = await getSignedUrl(
      this.presigner,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: input.key,
        ResponseContentType: input.contentType,
        ResponseContentDisposition: input.contentDisposition,
        ResponseCacheControl: 'private, max-age=300',
      }),
      { expiresIn, signingDate },
    );
    return { url, expiresAt: expiresAt.toISOString() };
  }

  /** Starts an S3 multipart upload of `key`; the parts are signed one by one (`presignUploadPart`). */
  async createMultipartUpload(key: string, contentType: string): Promise<string> {
    const answer = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }));
    if (!answer.UploadId) throw new Error(`S3 gave no upload id for ${key}`);
    return answer.UploadId;
  }

  /**
   * A presigned PUT for one part of exactly `partBytes` bytes: `content-length` is a signed header,
   * so S3 refuses a PUT of any other length (a part cannot carry more than the plan, even briefly).
   * What the part holds is checked at completion.
   */
  async presignUploadPart(input: {
    key: string;
    uploadId: string;
    partNumber: number;
    partBytes: number;
    expiresInSeconds: number;
  }): Promise<PresignedDownload> {
    const expiresIn = Math.min(input.expiresInSeconds, MAX_UPLOAD_URL_SECONDS);
    const signingDate = wholeSecond(new Date());
    const url = await getSignedUrl(
      this.presigner,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: input.key,
        UploadId: input.uploadId,
        PartNumber: input.partNumber,
        ContentLength: input.partBytes,
      }),
      // The SDK signs content-length when the command sets it; named here so it stays signed.
      { expiresIn, signingDate, signableHeaders: new Set(['content-length']) },
    );
    return { url, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000).toISOString() };
  }

  /** The parts S3 holds for a multipart upload, by part number; null when the upload is gone (completed or aborted). */
  async listParts(key: string, uploadId: string): Promise<{ partNumber: number; etag: string; size: number }[] | null> {
    const parts: { partNumber: number; etag: string; size: number }[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        );
        for (const part of page.Parts ?? []) {
          parts.push({ partNumber: part.PartNumber ?? 0, etag: part.ETag ?? '', size: part.Size ?? 0 });
        }
        marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
      } while (marker);
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404) return null;
      throw error;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<void> {
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  }

  /** Aborts a multipart upload and frees its parts; one already gone is fine. */
  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e?.name === 'NoSuchUpload' || e?.$metadata?.httpStatusCode === 404) return;
      throw error;
    }
  }

  /** The object streamed to a file (large media: never held in memory); false when there is none. */
  async downloadToFile(key: string, path: string): Promise<boolean> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = object.Body as NodeJS.ReadableStream | undefined;
      if (!body) {
        await writeFile(path, '');
        return true;
      }
      await pipeline(body, createWriteStream(path));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** Writes a file as an object, streamed (multipart by the SDK's rules is not needed: one PUT holds 5 GB). */
  async putFile(
    key: string,
    path: string,
    contentType: string,
    tags?: Record<string, string>,
    metadata?: Record<string, string>,
  ): Promise<void> {
    const { size } = await stat(path);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: contentType,
        Tagging: tags ? new URLSearchParams(tags).toString() : undefined,
        Metadata: metadata,
      }),
    );
  }

  /** An object's user metadata (`x-amz-meta-*`), or null when there is none. */
  async getObjectMetadata(key: string): Promise<Record<string, string> | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.Metadata ?? {};
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** Size and type of an object, or null when there is none. */
  async head(key: string): Promise<{ size: number; contentType?: string } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: head.ContentLength ?? 0, contentType: head.ContentType };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** The whole object, or null when there is none. */
  async getBytes(key: string): Promise<Buffer | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!object.Body) return Buffer.alloc(0);
      return Buffer.from(await object.Body.transformToByteArray());
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** The whole object with its user metadata (`x-amz-meta-*`, names in lower case), or null when there is none. */
  async getObject(key: string): Promise<{ bytes: Buffer; metadata: Record<string, string> } | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = object.Body ? Buffer.from(await object.Body.transformToByteArray()) : Buffer.alloc(0);
      return { bytes, metadata: object.Metadata ?? {} };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * Writes an object; `tags` become S3 object tags (lifecycle rules key on them), `metadata` its
   * user metadata (`x-amz-meta-*`: ASCII values, returned with every GET of the object),
   * `cacheControl` the Cache-Control that S3 (and a CDN in front of it) answers with.
   */
  async put(
    key: string,
    body: Buffer,
    contentType: string,
    tags?: Record<string, string>,
    metadata?: Record<string, string>,
    cacheControl?: string,
  ): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        CacheControl: cacheControl,
        Tagging: tags ? new URLSearchParams(tags).toString() : undefined,
        Metadata: metadata,
      }),
    );
  }

  /** An object's bytes as a stream (read as it is consumed), or null when there is none. */
  async getStream(key: string): Promise<Readable | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (object.Body as Readable | undefined) ?? null;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /**
   * Writes a stream of unknown length as a multipart upload (5 MiB parts, two in flight), so the
   * whole object is never in memory; aborted, nothing is left behind.
   */
  async putStream(key: string, body: Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  /**
   * Copies an object inside the bucket (S3 moves the bytes, up to 5 GB in one request) with its own
   * type, tags and user metadata, as `put` would have written them.
   */
  async copy(
    fromKey: string,
    toKey: string,
    contentType: string,
    tags?: Record<string, string>,
    metadata?: Record<string, string>,
  ): Promise<void> {
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: toKey,
        CopySource: `${this.bucket}/${fromKey.split('/').map(encodeURIComponent).join('/')}`,
        ContentType: contentType,
        MetadataDirective: 'REPLACE',
        Metadata: metadata,
        ...(tags ? { TaggingDirective: 'REPLACE' as const, Tagging: new URLSearchParams(tags).toString() } : {}),
      }),
    );
  }

  /**
   * A GET or a PUT of one object for another of our functions, which then acts with our rights on
   * that object alone, until the URL expires. No checksum is signed in (see the presigner above).
   */
  async presignObject(method: 'GET' | 'PUT', key: string, expiresInSeconds: number): Promise<string> {
    const command =
      method === 'GET' ? new GetObjectCommand({ Bucket: this.bucket, Key: key }) : new PutObjectCommand({ Bucket: this.bucket, Key: key });
    return getSignedUrl(this.internalPresigner, command, { expiresIn: expiresInSeconds });
  }

  /** Deletes keys; deleting what is already gone is fine (S3 semantics). */
  async deleteMany(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const chunk = keys.slice(i, i + 1000);
      if (chunk.length === 0) continue;
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
      );
      if (result.Errors?.length) {
        throw new Error(`S3 refused to delete ${result.Errors.length} object(s): ${result.Errors[0]?.Code ?? 'unknown'}`);
      }
    }
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}

const wholeSecond = (date: Date) => new Date(Math.floor(date.getTime() / 1000) * 1000);

function isMissing(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
