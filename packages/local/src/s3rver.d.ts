/** The part of s3rver's (untyped, CommonJS) API the local stack uses. */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    vhostBuckets?: boolean;
    resetOnClose?: boolean;
    configureBuckets?: { name: string; configs: (string | Buffer)[] }[];
  }

  /** An S3 notification as s3rver emits it for PUT, POST, COPY and DELETE of an object. */
  interface S3rverNotification {
    Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string; size?: number } } }[];
  }

  /** The part of a Koa context our own middleware reads and writes. */
  interface S3rverContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    headers: Record<string, string | string[] | undefined>;
    status: number;
    body: unknown;
    type: string;
  }

  /** An object on its way into the store. */
  interface S3rverObject {
    bucket: string;
    key: string;
    content: Buffer | NodeJS.ReadableStream;
    metadata: Record<string, string>;
  }

  /** The filesystem store: where each file of an object lives, and how an object is written. */
  interface S3rverStore {
    getResourcePath(bucket: string, key: string, resource: 'object' | 'metadata.json' | 'object.md5'): string;
    /** The folder of every unfinished multipart upload's parts: `<that>/<uploadId>/<partNumber>`. */
    getResourcePath(bucket: string, key: undefined, resource: 'uploads'): string;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
    putPart(
      bucket: string,
      uploadId: string,
      partNumber: string | number,
      content: NodeJS.ReadableStream,
    ): Promise<{ size: number; md5: string }>;
  }

  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Koa's middleware list: composed when the server starts, so it can be extended before `run`. */
    middleware: ((ctx: S3rverContext, next: () => Promise<void>) => Promise<void>)[];
    store: S3rverStore;
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: S3rverNotification) => void): this;
  }
}
