import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import S3rver from 's3rver';
import { uploadDir, writeObjectsWhole } from './whole-objects';

export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3ServerOptions {
  directory: string;
  host: string;
  port: number;
  bucket: string;
  /** Origins a browser may POST from; `*` once per origin as in S3's own CORS rules. */
  allowedOrigins: string[];
}

export interface S3EventRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number } };
}

export interface S3Server {
  endpoint: string;
  onEvent(listener: (record: S3EventRecord) => void): void;
  stop(): Promise<void>;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function corsXml(origins: string[]): string {
  const rules = origins
    .map(
      (origin) => `<CORSRule>
    <AllowedOrigin>${escapeXml(origin)}</AllowedOrigin>
    <AllowedMethod>POST</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod><AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>`,
    )
    .join('\n');
  return `<CORSConfiguration>${rules}</CORSConfiguration>`;
}

const noSuchUpload = (uploadId: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${escapeXml(uploadId)}</UploadId></Error>`;

/**
 * What s3rver 3 lacks of multipart uploads (it starts them, takes parts and completes them):
 * ListParts (GET ?uploadId) and AbortMultipartUpload (DELETE ?uploadId), from the parts it keeps on
 * disk. A part is there whole or not at all (`whole-objects.ts`): as S3, none from a request cut short.
 */
function multipartExtras(store: S3rver['store']): S3rver['middleware'][number] {
  return async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const bucket = ctx.path.split('/')[1];
    if (typeof uploadId !== 'string' || !bucket || !/^[0-9a-f]+$/.test(uploadId)) return next();
    const dir = uploadDir(store, decodeURIComponent(bucket), uploadId);
    const partNumber = ctx.query.partNumber;
    if ((ctx.method !== 'GET' && ctx.method !== 'DELETE') || partNumber !== undefined) return next();
    const exists = (await stat(dir).catch(() => null))?.isDirectory();
    if (!exists) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = noSuchUpload(uploadId);
      return;
    }
    if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    const numbers = (await readdir(dir))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
    const parts = await Promise.all(
      numbers.map(async (n) => {
        const [found, md5] = await Promise.all([
          stat(join(dir, String(n))).catch(() => null),
          readFile(join(dir, `${n}.md5`), 'utf8').catch(() => null),
        ]);
        // A part still arriving (its checksum is written last) is not a part yet.
        if (!found || md5 === null) return '';
        return `<Part><PartNumber>${n}</PartNumber><ETag>"${escapeXml(md5.trim())}"</ETag><Size>${found.size}</Size></Part>`;
      }),
    );
    ctx.status = 200;
    ctx.type = 'application/xml';
    ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult><UploadId>${escapeXml(uploadId)}</UploadId><IsTruncated>false</IsTruncated>${parts.join('')}</ListPartsResult>`;
  };
}

/**
 * s3rver on disk: serves browser POSTs and emits S3 event records. Of a presigned URL it checks only
 * the expiry of a GET: not the signature (a URL signed with any secret, or with its signature
 * changed, is served), nor a POST's policy (its conditions or its expiry). The processor re-checks
 * the real object itself; AWS checks both, LocalStack the POST policy only. Multipart uploads work
 * (with ListParts and abort added here); a part's presigned PUT is not checked either.
 */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: options.host,
    port: options.port,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucket, configs: [corsXml(options.allowedOrigins)] }],
  });
  // After the logger, before the router.
  server.middleware.splice(1, 0, multipartExtras(server.store));
  writeObjectsWhole(server);
  const address = await server.run();
  return {
    endpoint: `http://${options.host}:${address.port}`,
    onEvent(listener) {
      server.on('event', (event) => event.Records.forEach(listener));
    },
    async stop() {
      await server.close();
    },
  };
}
